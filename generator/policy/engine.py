"""Runs every rule over the built objects of one overlay and applies a model's waivers.

Rules see one object at a time plus an :class:`OverlayContext` holding every object of the same
overlay, because some questions (is there a PodDisruptionBudget for these pods?) are only
answerable for the overlay as a whole, which is also the unit Argo CD and Flux apply.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from types import ModuleType
from typing import Any

from generator.load.modelspec import PolicyWaiver
from generator.policy import rules as rules_package
from generator.policy.workloads import Object, name_of
from generator.problems import Problem, Severity

RULE_ID = re.compile(r"^MLG1[0-9]{2}$")


@dataclass(frozen=True)
class OverlayContext:
    """What a rule may know beyond the object it checks."""

    overlay: str
    objects: tuple[Object, ...] = ()
    require_digest: bool = False


Check = Callable[[Object, OverlayContext], Iterator[Problem]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    hint: str
    doc: str
    check: Check


def _rule_from(module: ModuleType) -> Rule:
    """Refuse a malformed rule module at import time rather than mis-report later."""
    doc = (module.__doc__ or "").strip()
    rule_id = getattr(module, "ID", "")
    if not RULE_ID.match(rule_id) or not doc or not callable(getattr(module, "check", None)):
        raise ImportError(f"{module.__name__}: a rule needs ID (MLG1xx), a docstring and check()")
    return Rule(
        id=rule_id,
        severity=Severity(module.SEVERITY),
        title=doc.splitlines()[0].rstrip(".").replace("``", ""),
        hint=str(module.HINT),
        doc=doc,
        check=module.check,
    )


@cache
def all_rules() -> tuple[Rule, ...]:
    """Every module of ``generator.policy.rules``, ordered by id; ids must be unique."""
    modules = (
        importlib.import_module(f"{rules_package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(rules_package.__path__)
        if not info.name.startswith("_")
    )
    found = sorted((_rule_from(m) for m in modules), key=lambda r: r.id)
    ids = [r.id for r in found]
    if len(set(ids)) != len(ids):
        raise ImportError(f"duplicate policy rule ids: {ids}")
    return tuple(found)


def rule_ids() -> list[str]:
    return [rule.id for rule in all_rules()]


def check_objects(objects: Iterable[Object], context: OverlayContext) -> list[Problem]:
    """Findings for every object, each carrying its rule id and severity; file left empty."""
    every = tuple(objects)
    context = replace(context, objects=every)
    findings: list[Problem] = []
    for obj in every:
        subject = f"{context.overlay} {obj.get('kind')} {name_of(obj)}"
        for rule in all_rules():
            for found in rule.check(obj, context):
                findings.append(
                    replace(
                        found,
                        message=f"{subject}: {found.message}",
                        hint=found.hint or rule.hint,
                        rule=rule.id,
                        severity=rule.severity,
                    )
                )
    return findings


WAIVED_PREFIX = "waived: "


def apply_waivers(findings: Iterable[Problem], waivers: Iterable[PolicyWaiver]) -> list[Problem]:
    """A waived finding stays visible (a warning starting 'waived: ' whose hint is the reason),
    so reviewers and ``--format json`` still see it, but it no longer fails validation."""
    reasons: Mapping[str, str] = {w.rule: w.reason for w in waivers}
    result = []
    for finding in findings:
        reason = reasons.get(finding.rule)
        if reason is None:
            result.append(finding)
        else:
            result.append(
                replace(
                    finding,
                    message=WAIVED_PREFIX + finding.message,
                    hint=f"waiver reason: {reason}",
                    severity=Severity.WARNING,
                )
            )
    return result


def rule_table() -> list[dict[str, Any]]:
    return [
        {"id": r.id, "severity": r.severity.value, "title": r.title, "hint": r.hint}
        for r in all_rules()
    ]
