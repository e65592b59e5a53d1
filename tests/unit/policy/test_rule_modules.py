"""Every policy rule has its own test module here, which runs the rule's documented examples."""

from __future__ import annotations

import pkgutil
from pathlib import Path

from generator.policy import rules
from generator.policy.engine import all_rules


def test_every_rule_module_has_a_test_module() -> None:
    names = {info.name for info in pkgutil.iter_modules(rules.__path__)}
    tested = {path.stem.removeprefix("test_") for path in Path(__file__).parent.glob("test_*.py")}
    assert sorted(names - tested) == []


def test_the_compliant_overlay_passes_every_rule() -> None:
    """The examples are placed into it, so a finding there would blur every PASS example."""
    from tests.unit.policy.examples import compliant, findings

    for rule in all_rules():
        assert findings(rule.id, compliant(), require_digest=True) == [], rule.id
