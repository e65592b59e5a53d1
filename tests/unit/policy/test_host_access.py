"""MLG114 (host_access): Pods stay out of the node: no host namespaces, privileged containers, host
ports or hostPath. Its documented PASS/FAIL examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import host_access as rule
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
                        "  hostPID: true",
                        "  containers: [{name: server}]",
                    ]
                ),
                False,
            ),
            id="hostPID",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
