"""MLG103 (capabilities): Containers drop all Linux capabilities. Its documented PASS/FAIL examples
run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import capabilities as rule
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
                        "securityContext:",
                        "  capabilities: {drop: [ALL], add: [NET_ADMIN]}",
                    ]
                ),
                False,
            ),
            id="adds-more-than-NET_BIND_SERVICE",
        ),
        pytest.param(
            Example(
                "PASS",
                "\n".join(
                    [
                        "securityContext:",
                        "  allowPrivilegeEscalation: false",
                        "  capabilities: {drop: [ALL], add: [NET_BIND_SERVICE]}",
                    ]
                ),
                False,
            ),
            id="adds-only-NET_BIND_SERVICE",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
