"""What valid input gets: every case folder under ``cases/valid/<case>/`` (files laid over the
default repository, as ``cases/invalid/`` does) validates with no problem at all, including the
kustomize builds and the policy, and generates a tree that ``generate --check`` then finds up to
date."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.generator.conftest import RepoFactory

CASES = Path(__file__).parent / "cases" / "valid"


def case_files(case: Path) -> dict[str, str | bytes]:
    return {
        path.relative_to(case).as_posix(): path.read_bytes()
        for path in sorted(case.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name) for c in sorted(CASES.iterdir()) if c.is_dir()]
)
def test_valid_case_validates_and_generates_cleanly(case: Path, make_repo: RepoFactory) -> None:
    root = make_repo(case_files(case))
    models = len([m for m in (case / "models").iterdir() if (m / "model.yaml").is_file()])

    validated = run_cli("validate", root=root)
    generated = run_cli("generate", "--skip-build", root=root)
    checked = run_cli("generate", "--check", "--skip-build", root=root)

    assert (validated.exit_code, validated.stderr) == (0, "")
    assert validated.stdout.startswith(f"ok: {models} model(s) checked, ")
    assert (generated.exit_code, generated.stderr) == (0, "")
    assert (root / "overlays" / "dev").is_dir()
    assert (checked.exit_code, checked.stdout) == (0, "ok: the generated tree is up to date\n")
