"""Every policy rule has its own test module here, which runs the rule's documented examples."""

from __future__ import annotations

import pkgutil
from pathlib import Path

from generator.policy import rules


def test_every_rule_module_has_a_test_module() -> None:
    names = {info.name for info in pkgutil.iter_modules(rules.__path__)}
    tested = {path.stem.removeprefix("test_") for path in Path(__file__).parent.glob("test_*.py")}
    assert sorted(names - tested) == []
