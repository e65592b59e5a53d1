"""What one run decided, stage by stage, before anything is verified or written.

The orchestrator (``generator.pipeline``) fills a ``Plan`` through load, check, resolve and
render; ``verify``, ``write`` and ``diff`` read it. It lives in its own module so that those
later stages can take it without importing the orchestrator that calls them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from generator.layout import RepoLayout
from generator.load.modelspec import ModelSource
from generator.load.platform import Platform
from generator.problems import Problem
from generator.render.tree import RenderedFile
from generator.resolve import Resolved


@dataclass
class Plan:
    """Everything a run decided, before anything is verified or written."""

    layout: RepoLayout
    platform: Platform | None
    models: list[ModelSource] = field(default_factory=list)
    bases: dict[str, Resolved] = field(default_factory=dict)
    deployments: list[Resolved] = field(default_factory=list)
    files: list[RenderedFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    focus: set[str] | None = None

    @property
    def ok(self) -> bool:
        return not any(p.severity.value == "error" for p in self.problems)

    def in_focus(self, model: str) -> bool:
        return self.focus is None or model in self.focus
