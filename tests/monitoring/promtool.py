"""Running ``promtool test rules`` on rule groups: one helper for the monitoring tests."""

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


def run_rule_tests(
    groups: list[dict[str, Any]], tmp_path: Path, tests: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    """``promtool test rules`` of ``tests`` (evaluated every minute) against ``groups``."""
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    spec = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(spec, width=1 << 20))
    return subprocess.run(
        [promtool(), "test", "rules", "tests.yaml"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
