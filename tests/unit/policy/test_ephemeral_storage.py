"""MLG133 (ephemeral_storage): its documented PASS/FAIL examples run as cases."""

from __future__ import annotations

import pytest

from generator.policy.rules import ephemeral_storage as rule
from tests.unit.policy.examples import Example, check_example, examples


@pytest.mark.parametrize("example", examples(rule), ids=lambda e: e.id)
def test_documented_example(example: Example) -> None:
    check_example(rule, example)
