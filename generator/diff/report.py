"""The diff as text (terminals), markdown (pull request comments) and JSON (machines)."""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from generator.diff.compare import (
    ABSENT,
    ADDED,
    CHANGED,
    REMOVED,
    DiffReport,
    EnvironmentImpact,
    FieldChange,
    ObjectChange,
    OverlayChange,
)
from generator.diff.restarts import describe, restart_lines
from generator.diff.sides import Usage
from generator.quantities import format_bytes, format_millicores

GITHUB_COMMENT_LIMIT = 65_536
ARROW = "→"


def format_value(value: Any) -> str:
    if value is ABSENT:
        return "(absent)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _is_text_block(value: Any) -> bool:
    return isinstance(value, str) and "\n" in value


def _object_label(overlay: OverlayChange, obj: ObjectChange) -> str:
    """``Deployment`` for the model's own object, ``Kind/name`` where the name adds meaning."""
    same = obj.name == overlay.model or (overlay.model == "_namespace" and not obj.name)
    return obj.kind if same else f"{obj.kind}/{obj.name}"


def field_lines(prefix: str, change: FieldChange) -> list[str]:
    """One line ``prefix path: old → new``; multi-line text (dashboards, configs) as a
    unified diff below the path, since old → new of a page of JSON helps nobody."""
    if not (_is_text_block(change.old) or _is_text_block(change.new)):
        return [
            f"{prefix} {change.path}: {format_value(change.old)} {ARROW} {format_value(change.new)}"
        ]
    old = change.old.splitlines() if isinstance(change.old, str) else []
    new = change.new.splitlines() if isinstance(change.new, str) else []
    body = list(difflib.unified_diff(old, new, lineterm="", n=1))[2:]
    return [f"{prefix} {change.path}:", *(f"    {line}" for line in body)]


def overlay_lines(overlay: OverlayChange) -> list[str]:
    lines = []
    before, after = overlay.rollout
    if before != after and before is not None and after is not None:
        lines.append(f"{overlay.key} rollout: {before} {ARROW} {after}")
    for obj in overlay.objects:
        prefix = f"{overlay.key} {_object_label(overlay, obj)}"
        if obj.change != CHANGED:
            lines.append(f"{overlay.key} {obj.kind}/{obj.name}: {obj.change}")
            continue
        for change in obj.fields:
            lines += field_lines(prefix, change)
    return lines


def _pair(before: str | None, after: str | None) -> str:
    before, after = before or "(none)", after or "(none)"
    return before if before == after else f"{before} {ARROW} {after}"


def _with_surge(amount: int, surge: int, fmt: Callable[[int], str]) -> str:
    """``9300m``, or ``9300m + surge 2325m``: what the models' updates add beside maxReplicas
    counts against the quota too."""
    return fmt(amount) + (f" + surge {fmt(surge)}" if surge else "")


Metric = tuple[str, Callable[[Usage], str], Callable[[Usage], str] | None]
_METRICS: tuple[Metric, ...] = (
    ("replicas min", lambda u: str(u.min_replicas), None),
    ("replicas max", lambda u: str(u.max_replicas), None),
    (
        "CPU",
        lambda u: _with_surge(u.cpu_millis, u.surge[0], format_millicores),
        lambda u: u.quota_cpu,
    ),
    (
        "memory",
        lambda u: _with_surge(u.memory_bytes, u.surge[1], format_bytes),
        lambda u: u.quota_memory,
    ),
    ("GPUs", lambda u: _with_surge(u.gpus, u.surge[2], str), lambda u: str(u.quota_gpus)),
    ("pods", lambda u: _with_surge(u.pods, u.surge[3], str), lambda u: str(u.quota_pods)),
)


def _metric(item: EnvironmentImpact, metric: Metric, markdown: bool = False) -> str:
    _, amount, quota = metric
    before, after = item.before, item.after
    value = _pair(amount(before) if before else None, amount(after) if after else None)
    if quota is None:
        return value
    limit = _pair(quota(before) if before else None, quota(after) if after else None)
    return f"{value} / {limit}" if markdown else f"{value} (quota {limit})"


def impact_line(item: EnvironmentImpact) -> str:
    parts = [f"{name} {_metric(item, metric)}" for metric in _METRICS for name in [metric[0]]]
    return f"impact {item.environment}: " + ", ".join(parts)


def _waiver_line(report: DiffReport) -> Iterator[str]:
    for waiver in report.waivers:
        yield f"waiver {waiver.change}: {waiver.model} {waiver.rule} ({waiver.reason})"


def _counts(report: DiffReport) -> str:
    return (
        f"{report.count(CHANGED)} overlay(s) changed, {report.count(ADDED)} added, "
        f"{report.count(REMOVED)} removed"
    )


def format_text(report: DiffReport) -> str:
    lines = [f"mlgitops diff {report.base} {ARROW} {report.head}: {_counts(report)}"]
    if report.empty:
        lines.append("no changes to the built manifests")
        return "\n".join(lines) + "\n"
    for overlay in report.overlays:
        lines += overlay_lines(overlay)
    lines += restart_lines(report.restarts)
    lines += [impact_line(item) for item in report.impact if item.changed or _touched(report, item)]
    lines += _waiver_line(report)
    return "\n".join(lines) + "\n"


def _touched(report: DiffReport, item: EnvironmentImpact) -> bool:
    return any(o.environment == item.environment for o in report.overlays)


# --- markdown ------------------------------------------------------------------------------


def _fence(lines: list[str]) -> str:
    """A code fence longer than any run of backticks inside, so content cannot close it."""
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    return "`" * max(3, longest + 1)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _summary_table(report: DiffReport) -> list[str]:
    head = ["Environment", "Overlays", *(metric[0] for metric in _METRICS)]
    rows = [
        "| " + " | ".join(head) + " |",
        "| " + " | ".join("---" for _ in head) + " |",
    ]
    for item in report.impact:
        overlays = [o for o in report.overlays if o.environment == item.environment]
        counts = ", ".join(
            f"{sum(1 for o in overlays if o.change == change)} {change}"
            for change in (CHANGED, ADDED, REMOVED)
            if any(o.change == change for o in overlays)
        )
        cells = [f"`{item.environment}`", counts or "unchanged"]
        cells += [_metric(item, metric, markdown=True) for metric in _METRICS]
        rows.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return rows


@dataclass(frozen=True)
class _Section:
    summary: str
    lines: list[str]

    def render(self, lines: list[str], cut: int = 0) -> str:
        fence = _fence(lines)
        note = [f"… {cut} more line(s) cut"] if cut else []
        body = "\n".join([fence + "text", *lines, *note, fence])
        return f"<details>\n<summary>{self.summary}</summary>\n\n{body}\n\n</details>\n"


def _sections(report: DiffReport) -> list[_Section]:
    sections = []
    for overlay in report.overlays:
        count = len(overlay.objects)
        summary = f"<code>{overlay.key}</code>: {overlay.change}, {count} object(s)"
        sections.append(_Section(summary, overlay_lines(overlay)))
    return sections


def _cut_note(report: DiffReport, left_out: int, total: int) -> str:
    return (
        f"\n> **Cut:** {left_out} of {total} detail section(s) shortened or left out to stay "
        f"under GitHub's {GITHUB_COMMENT_LIMIT:,}-character comment limit; run "
        f"`mlgitops diff --base {report.base}` for the full diff.\n"
    )


def format_markdown(report: DiffReport, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """Summary table first, then one collapsible section per overlay, while they fit."""
    parts = [f"### mlgitops diff: `{report.base}` {ARROW} `{report.head}`\n"]
    if report.empty:
        parts.append("No changes to the built manifests.\n")
        return "\n".join(parts)
    parts.append(_counts(report) + ".\n")
    parts.append("Requests at maximum scale per environment, against the namespace quota.\n")
    parts.append("\n".join(_summary_table(report)) + "\n")
    rolling = report.restarts
    if rolling:
        parts.append("**Pods that restart** (rolling update)\n")
        parts.append("\n".join(f"- `{r.key}`: {describe(r)}" for r in rolling) + "\n")
    if report.waivers:
        parts.append("**Policy waivers**\n")
        parts.append(
            "\n".join(
                f"- {w.change}: `{w.rule}` on `{w.model}`: {' '.join(w.reason.split())}"
                for w in report.waivers
            )
            + "\n"
        )
    text = "\n".join(parts)
    sections = _sections(report)
    reserve = len(_cut_note(report, len(sections), len(sections))) + 1
    for index, section in enumerate(sections):
        full = section.render(section.lines)
        if len(text) + 1 + len(full) + reserve <= limit:
            text += "\n" + full
            continue
        kept = list(section.lines)
        while len(kept) > 1:
            kept.pop()
            shorter = section.render(kept, len(section.lines) - len(kept))
            if len(text) + 1 + len(shorter) + reserve <= limit:
                text += "\n" + shorter
                break
        return text + _cut_note(report, len(sections) - index, len(sections))
    return text


# --- json ----------------------------------------------------------------------------------


def _field_data(change: FieldChange) -> dict[str, Any]:
    data: dict[str, Any] = {"path": change.path}
    if change.old is not ABSENT:
        data["old"] = change.old
    if change.new is not ABSENT:
        data["new"] = change.new
    return data


def _usage_data(usage: Usage | None) -> dict[str, Any] | None:
    if usage is None:
        return None
    return {
        "minReplicas": usage.min_replicas,
        "maxReplicas": usage.max_replicas,
        "cpuMillicores": usage.cpu_millis,
        "memoryBytes": usage.memory_bytes,
        "gpus": usage.gpus,
        "pods": usage.pods,
        "surge": dict(
            zip(("cpuMillicores", "memoryBytes", "gpus", "pods"), usage.surge, strict=True)
        ),
        "quota": {
            "cpu": usage.quota_cpu,
            "memory": usage.quota_memory,
            "gpus": usage.quota_gpus,
            "pods": usage.quota_pods,
        },
    }


def report_data(report: DiffReport) -> dict[str, Any]:
    return {
        "base": report.base,
        "head": report.head,
        "changed": not report.empty,
        "overlays": [
            {
                "environment": o.environment,
                "model": o.model,
                "change": o.change,
                "rollout": {"before": o.rollout[0], "after": o.rollout[1]},
                "objects": [
                    {
                        "kind": obj.kind,
                        "name": obj.name,
                        "change": obj.change,
                        "fields": [_field_data(f) for f in obj.fields],
                    }
                    for obj in o.objects
                ],
            }
            for o in report.overlays
        ],
        "impact": [
            {
                "environment": i.environment,
                "before": _usage_data(i.before),
                "after": _usage_data(i.after),
            }
            for i in report.impact
        ],
        "waivers": [
            {"model": w.model, "rule": w.rule, "reason": w.reason, "change": w.change}
            for w in report.waivers
        ],
        "restarts": [
            {
                "environment": r.environment,
                "model": r.model,
                "kind": r.kind,
                "name": r.name,
                "causes": list(r.causes),
            }
            for r in report.restarts
        ],
    }


def format_json(report: DiffReport) -> str:
    """Sorted keys and a fixed list order: the same diff always prints the same bytes."""
    return json.dumps(report_data(report), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


FORMATTERS: dict[str, Callable[[DiffReport], str]] = {
    "text": format_text,
    "markdown": format_markdown,
    "json": format_json,
}
