"""What every command receives from the ``mlgitops`` group: the global options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import click

from generator.cli.report import Reporter
from generator.layout import RepoLayout

FORMATS = ("text", "json", "github")
"""``--format``: how problems (stderr) and results (stdout) are printed."""


def default_format() -> str:
    """github under GitHub Actions (annotations on the pull request), else text."""
    return "github" if os.environ.get("GITHUB_ACTIONS") == "true" else "text"


@dataclass(frozen=True)
class Options:
    """``--root``, ``--format`` and ``--quiet``, as parsed by the group."""

    root: Path
    output_format: str
    quiet: bool

    @property
    def layout(self) -> RepoLayout:
        return RepoLayout(self.root)

    def reporter(self, command: str, label: str = "error") -> Reporter:
        """The reporter of ``command``; ``label`` starts its text error lines."""
        return Reporter(self.output_format, self.quiet, command=command, label=label)


def options_of(ctx: click.Context) -> Options:
    """The group's options; defaults (current folder, text) when a command runs on its own,
    as tests invoke the delivery commands with a bare object that only has ``root``."""
    obj = ctx.obj
    if isinstance(obj, Options):
        return obj
    root = getattr(obj, "root", None)
    return Options(
        Path(root) if root is not None else Path.cwd(),
        getattr(obj, "output_format", None) or default_format(),
        bool(getattr(obj, "quiet", False)),
    )
