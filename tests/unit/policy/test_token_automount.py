"""MLG113 (token_automount): Pods do not mount a service-account token. Its documented PASS/FAIL
examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import token_automount as rule
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
                        "spec:",
                        "  automountServiceAccountToken: true",
                        "  serviceAccountName: iris-classifier",
                    ]
                ),
                False,
            ),
            id="automount-on",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
