"""Catalogue cases added for safety: reading."""

from tests.e2e.bad_input_registry import case, write_toy  # noqa: F401
