"""The CLI contract: every command reports its errors and its results in the global --format
(json parses, github gives workflow annotations), with the documented exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from generator.errors import ExitCode
from tests.conftest import run_cli

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The example platform and the iris model, without git history."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO_ROOT / "environments.yaml", root / "environments.yaml")
    shutil.copytree(REPO_ROOT / "models" / "iris-classifier", root / "models" / "iris-classifier")
    return root


FAILURES = [
    pytest.param(
        ["promote", "nosuch", "--to", "prod"],
        ExitCode.INVALID,
        "models/nosuch/model.yaml",
        "no model named 'nosuch' (known: iris-classifier)",
        id="promote-unknown-model",
    ),
    pytest.param(
        ["render", "nosuch", "--env", "prod"],
        ExitCode.USAGE,
        "mlgitops render",
        "unknown model 'nosuch'; known: iris-classifier",
        id="render-unknown-model",
    ),
    pytest.param(
        ["validate", "--changed-since", "nope"],
        ExitCode.USAGE,
        "mlgitops validate",
        "--changed-since nope: ",
        id="validate-unknown-ref",
    ),
    pytest.param(
        ["diff", "--base", "nope"],
        ExitCode.USAGE,
        "mlgitops diff",
        "unknown git ref 'nope'",
        id="diff-outside-git",
    ),
    pytest.param(
        ["init", "Bad_Name", "--artifact", "x.onnx"],
        ExitCode.USAGE,
        "mlgitops init",
        "model name 'Bad_Name' is not a DNS-1123 label",
        id="init-bad-name",
    ),
    pytest.param(
        ["build", "--changed-since", "nope"],
        ExitCode.USAGE,
        "mlgitops build",
        "--changed-since nope: ",
        id="build-unknown-ref",
    ),
]


@pytest.mark.parametrize(("args", "code", "where", "message"), FAILURES)
def test_json_errors_parse_as_a_list_of_problems(
    example: Path, args: list[str], code: ExitCode, where: str, message: str
) -> None:
    outcome = run_cli("--format", "json", *args, root=example)

    assert outcome.exit_code == code
    assert outcome.stdout == ""
    [problem] = json.loads(outcome.stderr)
    assert problem["file"] == where
    assert problem["message"].startswith(message)
    assert problem["severity"] == "error"


@pytest.mark.parametrize(("args", "code", "where", "message"), FAILURES)
def test_github_errors_are_workflow_annotations(
    example: Path, args: list[str], code: ExitCode, where: str, message: str
) -> None:
    outcome = run_cli("--format", "github", *args, root=example)

    assert outcome.exit_code == code
    [line] = outcome.stderr.splitlines()
    assert line.startswith("::error")
    assert message.replace("%", "%25") in line


def test_json_results_of_validate_and_generate_parse(example: Path) -> None:
    validated = run_cli("--format", "json", "validate", "--skip-build", root=example)
    generated = run_cli("--format", "json", "generate", "--skip-build", root=example)
    checked = run_cli("--format", "json", "generate", "--check", "--skip-build", root=example)

    assert (validated.exit_code, generated.exit_code, checked.exit_code) == (0, 0, 0)
    assert json.loads(validated.stdout)["models_checked"] == 1
    result = json.loads(generated.stdout)
    assert result["changed"] == result["removed"] == []
    assert "overlays/prod/iris-classifier/kustomization.yaml" in result["added"]
    assert json.loads(checked.stdout) == {"ok": True, "drift": []}


def test_json_results_of_the_listings_parse(example: Path) -> None:
    rules = json.loads(run_cli("--format", "json", "policy", root=example).stdout)
    fields = json.loads(run_cli("--format", "json", "schema", root=example).stdout)

    assert rules[0]["id"] == "MLG101"
    assert "model.yaml" in fields


def test_json_result_of_render_is_the_list_of_built_objects(example: Path) -> None:
    text = run_cli("render", "iris-classifier", "--env", "dev", root=example)
    data = run_cli("--format", "json", "render", "iris-classifier", "--env", "dev", root=example)

    assert (text.exit_code, data.exit_code) == (0, 0)
    objects = json.loads(data.stdout)
    assert objects == [doc for doc in yaml.safe_load_all(text.stdout) if doc]
    assert "Deployment" in {o["kind"] for o in objects}
