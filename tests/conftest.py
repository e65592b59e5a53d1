"""What every test module shares: the one way to run the CLI in-process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, root: Path) -> Outcome:
    """Run ``mlgitops --root ROOT ARGS`` in-process with stderr kept apart; any exception but
    SystemExit fails the test, and so does a traceback in the output."""
    result = CliRunner().invoke(main, ["--root", str(root), *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return Outcome(result.exit_code, result.stdout, result.stderr)


RunCli = Callable[..., Outcome]


@pytest.fixture(name="run_cli")
def run_cli_fixture() -> RunCli:
    """``run_cli(*args, root=...)`` as a fixture, for modules that take it that way."""
    return run_cli


@pytest.fixture(autouse=True)
def _outside_github_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default --format is github under GitHub Actions; tests that want it set it."""
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
