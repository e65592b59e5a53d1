"""``promtool test rules`` on generated rules or queries, for the tests that need a real
Prometheus evaluator without a server."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail("promtool is missing: run scripts/install-apt.sh prometheus")
    return found


def promtool_test(
    tmp_path: Path, groups: list[dict[str, Any]], tests: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    """Run unit ``tests`` (promtool's test file format) against the rule ``groups``."""
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    spec = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(spec))
    return subprocess.run(
        [promtool(), "test", "rules", "tests.yaml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
