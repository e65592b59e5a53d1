"""MLG110 (disruption_budget): Workloads with more than one replica have a PodDisruptionBudget. Its
documented PASS/FAIL examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import disruption_budget as rule
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
                        "spec:",
                        "  minReplicas: 1",
                        "  maxReplicas: 2",
                        "  scaleTargetRef: {kind: Deployment, name: iris-classifier}",
                        "# and no PodDisruptionBudget",
                    ]
                ),
                False,
            ),
            id="one-replica-needs-no-budget",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
