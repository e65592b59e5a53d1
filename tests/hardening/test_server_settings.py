"""Config values the model server reads as its own settings are checked by the server's own
validation at `validate` time (found by the pod tests of issue 12: ``MAX_REQUEST_BYTES: "0"``
passed every static check and crash-looped the pod)."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from tests.hardening.conftest import repo


def _config_problems(tmp_path: Path, config: str) -> tuple[list[str], int]:
    """The server-setting problems as ``line: message``, and the line of ``config:``."""
    root = repo(tmp_path, spec=f"config: {config}")
    lines = (root / "models/fraud/model.yaml").read_text().splitlines()
    config_line = next(n for n, line in enumerate(lines, 1) if line.strip().startswith("config:"))
    plan = make_plan(RepoLayout(root))
    problems = [f"{p.line}: {p.message}" for p in plan.problems if "model server" in p.message]
    return problems, config_line


@pytest.mark.parametrize(
    ("config", "refused"),
    [
        pytest.param('{MAX_REQUEST_BYTES: "0"}', "MAX_REQUEST_BYTES must be positive", id="zero"),
        pytest.param('{BODY_TIMEOUT: "soon"}', "BODY_TIMEOUT must be a number", id="not-a-number"),
        pytest.param('{BODY_TIMEOUT: "-1"}', "BODY_TIMEOUT must be positive", id="negative"),
        pytest.param('{MAX_REQUEST_BYTES: "1048576"}', "", id="valid-size"),
        pytest.param('{CORS_ALLOWED_ORIGINS: "https://app.example.com"}', "", id="valid-cors"),
        pytest.param('{FEATURE_FLAG: "0"}', "", id="not-a-server-setting"),
    ],
)
def test_server_settings_in_config_are_the_servers_to_accept(
    tmp_path: Path, config: str, refused: str
) -> None:
    problems, config_line = _config_problems(tmp_path, config)
    if refused:
        assert len(problems) == 1 and refused in problems[0], problems
        assert problems[0].startswith(f"{config_line}: ")
    else:
        assert problems == []
