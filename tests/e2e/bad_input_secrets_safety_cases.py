"""Catalogue cases added for safety: secrets and one-line errors."""

from tests.e2e.bad_input_registry import case, write_toy  # noqa: F401
