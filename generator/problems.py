"""The one type for everything a user must fix, and the reporters that print it."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum

from generator.errors import MlgitopsError


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    """Information that fails nothing, such as an artifact this machine could not check."""


@dataclass(frozen=True, order=True)
class Problem:
    """A located problem: ``file:line:col: message`` plus a one-line hint on how to fix it.

    ``line`` and ``column`` are 1-based; 0 means the problem concerns the whole file.
    """

    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    rule: str = ""
    severity: Severity = Severity.ERROR

    @property
    def location(self) -> str:
        if self.line <= 0:
            return f"{self.file}:1:1"
        return f"{self.file}:{self.line}:{self.column}"


class InputError(MlgitopsError):
    """Raised by a stage that cannot go on; carries every problem found so far."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(set(problems), key=_sort_key)
        super().__init__("\n".join(format_text(p) for p in self.problems))


def _sort_key(problem: Problem) -> tuple[str, int, int, str]:
    return (problem.file, problem.line, problem.column, problem.message)


def sort_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=_sort_key)


def format_text(problem: Problem) -> str:
    prefix = "" if problem.severity is Severity.ERROR else f"{problem.severity.value}: "
    rule = f" [{problem.rule}]" if problem.rule else ""
    text = f"{problem.location}: {prefix}{problem.message}{rule}"
    if problem.hint:
        text += f"\n  hint: {problem.hint}"
    return text


def format_github(problem: Problem) -> str:
    """GitHub Actions workflow command, so errors show inline on the pull request."""
    level = {"error": "error", "warning": "warning", "note": "notice"}[problem.severity.value]
    message = problem.message + (f" Hint: {problem.hint}" if problem.hint else "")
    message = message.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return (
        f"::{level} file={problem.file},line={max(problem.line, 1)},"
        f"col={max(problem.column, 1)}::{message}"
    )


def format_json(problems: Iterable[Problem]) -> str:
    return json.dumps(
        [asdict(p) | {"severity": p.severity.value} for p in problems], indent=2, sort_keys=True
    )


def render_report(problems: Iterable[Problem], style: str) -> str:
    ordered = sort_problems(problems)
    if style == "json":
        return format_json(ordered)
    formatter = format_github if style == "github" else format_text
    return "\n".join(formatter(p) for p in ordered)
