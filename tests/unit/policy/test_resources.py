"""MLG106 (resources): Every container requests CPU and memory and has a memory limit. Its
documented PASS/FAIL examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import resources as rule
from tests.unit.policy.examples import Example, check_example, examples


@pytest.mark.parametrize("example", examples(rule), ids=lambda e: e.id)
def test_documented_example(example: Example) -> None:
    check_example(rule, example)


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(
            Example(
                "FAIL",
                "\n".join(
                    [
                        "resources:",
                        "  requests: {cpu: 250m, memory: 256Mi}",
                    ]
                ),
                False,
            ),
            id="no-memory-limit",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
