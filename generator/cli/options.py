"""What every command receives from the ``mlgitops`` group: the global options."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
