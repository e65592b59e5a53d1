"""MLG105 (volume_types): Pods use only the volume types the restricted Pod Security Standard
allows. Its documented PASS/FAIL examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import volume_types as rule
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
                        "volumes:",
                        "  - {name: code, gitRepo: {repository: https://example.com/x.git}}",
                    ]
                ),
                False,
            ),
            id="gitRepo",
        ),
        pytest.param(
            Example(
                "PASS",
                "\n".join(
                    [
                        "volumes:",
                        "  - {name: host, hostPath: {path: /var/lib}}",
                    ]
                ),
                False,
            ),
            id="hostPath-is-left-to-MLG114",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
