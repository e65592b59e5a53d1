"""MLG102 (privilege_escalation): Containers forbid privilege escalation. Its documented PASS/FAIL
examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import privilege_escalation as rule
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
                        "containers:",
                        "  - name: server",
                        "    securityContext: {allowPrivilegeEscalation: true}",
                    ]
                ),
                False,
            ),
            id="explicitly-true",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
