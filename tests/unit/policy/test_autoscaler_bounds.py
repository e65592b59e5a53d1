"""MLG111 (autoscaler_bounds): HorizontalPodAutoscalers have minReplicas ≤ maxReplicas. Its
documented PASS/FAIL examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import autoscaler_bounds as rule
from tests.unit.policy.examples import Example, check_example, examples


@pytest.mark.parametrize("example", examples(rule), ids=lambda e: e.id)
def test_documented_example(example: Example) -> None:
    check_example(rule, example)


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(
            Example(
                "PASS",
                "\n".join(
                    [
                        "kind: HorizontalPodAutoscaler",
                        "spec: {minReplicas: 3, maxReplicas: 3}",
                    ]
                ),
                False,
            ),
            id="equal-bounds",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
