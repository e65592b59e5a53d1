"""MLG107 (probes): Containers that serve a port have readiness and liveness probes. Its documented
PASS/FAIL examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import probes as rule
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
                        "    ports: [{name: http, containerPort: 8080}]",
                        "    readinessProbe: {httpGet: {path: /v2/health/ready, port: http}}",
                    ]
                ),
                False,
            ),
            id="readiness-only",
        ),
        pytest.param(
            Example(
                "PASS",
                "\n".join(
                    [
                        "containers:",
                        "  - name: worker",
                    ]
                ),
                False,
            ),
            id="a-container-without-ports-needs-none",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
