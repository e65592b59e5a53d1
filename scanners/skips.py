"""The committed skip list (scanners/skips.yaml): findings accepted by design, each naming the
tool, the check, the objects it covers and the reason.

A finding is identified by tool, check id and object (``Kind/namespace/name``; bases have no
namespace, so theirs is empty). An entry's ``objects`` are shell-style patterns over that
identity. An entry that matches no finding is stale and is reported too, so the list never
keeps an exception the manifests no longer need.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator.load.yamlsource import load_file

TOOLS = ("checkov", "trivy")


@dataclass(frozen=True)
class Finding:
    """One failed check on one object, as a scanner reported it."""

    tool: str
    check: str
    obj: str
    title: str
    where: str


@dataclass(frozen=True)
class Skip:
    tool: str
    check: str
    objects: tuple[str, ...]
    reason: str
    line: int

    def covers(self, finding: Finding) -> bool:
        return (
            finding.tool == self.tool
            and finding.check == self.check
            and any(fnmatch.fnmatchcase(finding.obj, pattern) for pattern in self.objects)
        )


class SkipListError(ValueError):
    """The skip list itself is malformed (message names file:line)."""


def load_skips(path: Path) -> list[Skip]:
    """Read and check the skip list; every entry needs tool, check, objects and a reason."""
    document = load_file(path, str(path))
    data = document.data
    if not isinstance(data, dict) or not isinstance(data.get("skips"), list):
        raise SkipListError(f"{path}:1:1: expected a mapping with a 'skips' list")
    skips = []
    for index, entry in enumerate(data["skips"]):
        mark = document.mark(("skips", index))
        where = f"{path}:{mark.line}:{mark.column}"
        if not isinstance(entry, dict) or set(entry) != {"tool", "check", "objects", "reason"}:
            raise SkipListError(f"{where}: an entry has exactly tool, check, objects and reason")
        objects = entry["objects"]
        reason = entry["reason"]
        if entry["tool"] not in TOOLS:
            raise SkipListError(f"{where}: tool must be one of {', '.join(TOOLS)}")
        if (
            not isinstance(objects, list)
            or not objects
            or not all(isinstance(o, str) and o.count("/") == 2 for o in objects)
        ):
            raise SkipListError(f"{where}: objects is a list of Kind/namespace/name patterns")
        if not isinstance(reason, str) or len(reason.split()) < 4:
            raise SkipListError(f"{where}: give the reason in a sentence")
        skips.append(Skip(entry["tool"], str(entry["check"]), tuple(objects), reason, mark.line))
    return skips


@dataclass(frozen=True)
class Verdict:
    unexpected: tuple[Finding, ...]
    skipped: tuple[Finding, ...]
    stale: tuple[Skip, ...]

    @property
    def ok(self) -> bool:
        return not self.unexpected and not self.stale


def judge(findings: Iterable[Finding], skips: Sequence[Skip], tools: Sequence[str]) -> Verdict:
    """Split findings into skipped and unexpected; entries of the tools that ran and matched
    nothing are stale."""
    unexpected, skipped, used = [], [], set()
    for finding in findings:
        match = next((s for s in skips if s.covers(finding)), None)
        if match is None:
            unexpected.append(finding)
        else:
            skipped.append(finding)
            used.add(match)
    stale = [s for s in skips if s not in used and s.tool in tools]
    return Verdict(tuple(unexpected), tuple(skipped), tuple(stale))
