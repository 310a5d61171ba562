"""Two tiers for a hypothesis fuzz test: a short derandomized run in the default tier, and a `-m slow` run of
20 times the examples from a random seed.

FINECLASS_FUZZ_EXAMPLES replaces the default tier's count (the slow tier runs 20 times it). Every failure a slow
run finds is kept as an `@example` in `found`, so the default tier replays it on every run.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, example, given, settings

SLOW_FACTOR = 20


def count(default: int) -> int:
    return int(os.environ.get("FINECLASS_FUZZ_EXAMPLES", default))


def tiers(check, examples: int, found: tuple[dict, ...] = (), **strategies):
    """(default-tier test, slow-tier test) of `check` under `@given(**strategies)`, each with `found` as @examples.

    Assign both to `test_...` names; pytest collects them by those names.
    """
    def build(examples_run: int, derandomize: bool):
        test = given(**strategies)(check)
        for inputs in found:
            test = example(**inputs)(test)
        return settings(max_examples=examples_run, derandomize=derandomize, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck))(test)

    return build(count(examples), True), pytest.mark.slow(build(SLOW_FACTOR * count(examples), False))
