"""MLG112 (network_policy): A NetworkPolicy in the same overlay selects the workload's pods. Its
documented PASS/FAIL examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import network_policy as rule
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
                        "kind: NetworkPolicy",
                        "spec:",
                        "  podSelector: {matchLabels: {app.kubernetes.io/name: other}}",
                        "  policyTypes: [Ingress]",
                    ]
                ),
                False,
            ),
            id="selects-other-pods",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
