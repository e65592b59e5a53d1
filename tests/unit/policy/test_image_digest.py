"""MLG109 (image_digest): Model images are pinned by digest where the environment sets
``requireDigest: true``. Its documented PASS/FAIL examples run as cases, and small cases beside
them."""

from __future__ import annotations

import pytest

from generator.policy.rules import image_digest as rule
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
                        "image: registry.example.com/ml/iris-classifier:1.0.0",
                    ]
                ),
                False,
            ),
            id="a-tag-where-no-digest-is-required",
        ),
    ],
)
def test_small_case(example: Example) -> None:
    check_example(rule, example)
