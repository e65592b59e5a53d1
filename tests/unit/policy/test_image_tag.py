"""MLG108 (image_tag): Images name a fixed version: no ``latest`` tag and no untagged image. Its
documented PASS/FAIL examples run as cases, and small cases beside them."""

from __future__ import annotations

import pytest

from generator.policy.rules import image_tag as rule
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
                        "image: registry.example.com/ml/iris-classifier",
                    ]
                ),
                False,
            ),
            id="untagged",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
