"""Pure comparison of two built sides into plain data: overlays, objects, fields, impact,
waivers. Nothing here reads the disk or runs a tool."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from generator.diff.rollout import rollout_summary
from generator.diff.sides import Object, Usage

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


class _Absent:
    """The value on the side where a field does not exist (distinct from an explicit null)."""

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Final = _Absent()


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class ObjectChange:
    kind: str
    name: str
    change: str
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class OverlayChange:
    environment: str
    model: str
    change: str
    objects: tuple[ObjectChange, ...]
    rollout: tuple[str | None, str | None] = (None, None)
    """How each side rolls a new version out (`rollout_summary`), before and after."""

    @property
    def key(self) -> str:
        return f"{self.environment}/{self.model}"


@dataclass(frozen=True)
class EnvironmentImpact:
    environment: str
    before: Usage | None
    after: Usage | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class WaiverChange:
    model: str
    rule: str
    reason: str
    change: str


@dataclass(frozen=True)
class DiffReport:
    base: str
    head: str
    overlays: tuple[OverlayChange, ...]
    impact: tuple[EnvironmentImpact, ...]
    waivers: tuple[WaiverChange, ...]
    restarts: tuple[Any, ...] = ()
    """`generator.diff.restarts.Restart` per workload that rolls its pods."""

    @property
    def empty(self) -> bool:
        return not self.overlays and not self.waivers and not any(i.changed for i in self.impact)

    def count(self, change: str) -> int:
        return sum(1 for overlay in self.overlays if overlay.change == change)


def _key_path(path: str, key: str) -> str:
    if _PLAIN_KEY.match(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key)}]"


def _named(items: Sequence[Any]) -> dict[str, Any] | None:
    """Items by their ``name`` when every item is a mapping with a distinct string name."""
    named = {
        item["name"]: item
        for item in items
        if isinstance(item, Mapping) and isinstance(item.get("name"), str)
    }
    return named if len(named) == len(items) else None


def field_changes(old: Any, new: Any, path: str = "") -> Iterator[FieldChange]:
    """Leaf-level differences; list items matched by name where they have one, so inserting
    a container or an env var does not report every later item as changed."""
    if old == new:
        return
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new)):
            yield from field_changes(
                old.get(key, ABSENT), new.get(key, ABSENT), _key_path(path, str(key))
            )
        return
    if isinstance(old, list) and isinstance(new, list):
        old_named, new_named = _named(old), _named(new)
        if old_named is not None and new_named is not None:
            order = list(old_named) + [name for name in new_named if name not in old_named]
            for name in order:
                yield from field_changes(
                    old_named.get(name, ABSENT), new_named.get(name, ABSENT), f"{path}[{name}]"
                )
            return
        if any(isinstance(item, Mapping | list) for item in [*old, *new]):
            for index in range(max(len(old), len(new))):
                yield from field_changes(
                    old[index] if index < len(old) else ABSENT,
                    new[index] if index < len(new) else ABSENT,
                    f"{path}[{index}]",
                )
            return
    yield FieldChange(path or "(object)", old, new)


def _identity(obj: Object) -> tuple[str, str]:
    return str(obj.get("kind", "")), str(obj.get("metadata", {}).get("name", ""))


def object_changes(old: Sequence[Object], new: Sequence[Object]) -> tuple[ObjectChange, ...]:
    before = {_identity(obj): obj for obj in old}
    after = {_identity(obj): obj for obj in new}
    changes = []
    for kind, name in sorted(set(before) | set(after)):
        if (kind, name) not in before:
            changes.append(ObjectChange(kind, name, ADDED))
        elif (kind, name) not in after:
            changes.append(ObjectChange(kind, name, REMOVED))
        else:
            fields = tuple(field_changes(before[kind, name], after[kind, name]))
            if fields:
                changes.append(ObjectChange(kind, name, CHANGED, fields))
    return tuple(changes)


def _environment_order(order: Sequence[str]) -> Callable[[str], tuple[int, str]]:
    def key(name: str) -> tuple[int, str]:
        return (order.index(name) if name in order else len(order), name)

    return key


def overlay_changes(
    old: Mapping[str, Sequence[Object]],
    new: Mapping[str, Sequence[Object]],
    order: Sequence[str],
) -> tuple[OverlayChange, ...]:
    """``old``/``new``: overlay key (``env/model``) -> built objects, for affected overlays;
    the result in promotion order of the environments, then by model."""
    result = []
    env_key = _environment_order(order)
    for key in sorted(set(old) | set(new), key=lambda k: (env_key(k.split("/")[0]), k)):
        env, model = key.split("/")
        change = ADDED if key not in old else REMOVED if key not in new else CHANGED
        objects = object_changes(old.get(key, ()), new.get(key, ()))
        if objects:
            rollout = (rollout_summary(old.get(key, ())), rollout_summary(new.get(key, ())))
            result.append(OverlayChange(env, model, change, objects, rollout))
    return tuple(result)


def impact(
    before: Mapping[str, Usage], after: Mapping[str, Usage], order: Sequence[str]
) -> tuple[EnvironmentImpact, ...]:
    """One entry per environment of either side, in ``order`` (promotion order)."""
    names = sorted(set(before) | set(after), key=_environment_order(order))
    return tuple(EnvironmentImpact(name, before.get(name), after.get(name)) for name in names)


def waiver_changes(
    before: Mapping[str, tuple[tuple[str, str], ...]],
    after: Mapping[str, tuple[tuple[str, str], ...]],
) -> tuple[WaiverChange, ...]:
    """Waivers added or removed; a changed reason counts as removed and added again, since
    the reason is what the reviewer approves."""
    changes = []
    for model in sorted(set(before) | set(after)):
        old, new = set(before.get(model, ())), set(after.get(model, ()))
        changes += [WaiverChange(model, rule, reason, REMOVED) for rule, reason in old - new]
        changes += [WaiverChange(model, rule, reason, ADDED) for rule, reason in new - old]
    return tuple(sorted(changes, key=lambda w: (w.model, w.rule, w.change, w.reason)))
