"""``mlgitops schema``: the reference generated from the JSON Schemas, and the committed copy."""

from __future__ import annotations

import json

from tests.conftest import run_cli
from tests.policy.conftest import REPO_ROOT


def test_docs_model_yaml_is_what_the_schema_command_prints() -> None:
    outcome = run_cli("schema", "--format", "markdown", root=REPO_ROOT)

    assert outcome.exit_code == 0
    committed = (REPO_ROOT / "docs" / "model-yaml.md").read_text(encoding="utf-8")
    assert outcome.stdout == committed, "run: mlgitops schema > docs/model-yaml.md"


def test_markdown_rows_show_type_default_allowed_values_and_description() -> None:
    text = run_cli("schema", root=REPO_ROOT).stdout

    assert (
        '| `spec.accelerator` | enum |  | `"cpu"` | "cpu", "gpu" | cpu runs on the environment\'s '
        "CPU pool; gpu on its GPU pool, with the ONNX Runtime CUDA provider. |"
    ) in text.splitlines()
    assert "## environments.yaml" in text
    assert "| `environments[].requireDigest` | boolean |  | `false` |" in text


def test_json_lists_fields_of_both_files() -> None:
    data = json.loads(run_cli("schema", "--format", "json", root=REPO_ROOT).stdout)

    assert sorted(data) == ["environments.yaml", "model.yaml"]
    waiver = next(f for f in data["model.yaml"] if f["path"] == "spec.policy.waivers[].rule")
    assert waiver == {
        "path": "spec.policy.waivers[].rule",
        "type": "string",
        "required": True,
        "default": "",
        "allowed": "pattern `^MLG[0-9]{3}$`",
        "description": "Policy rule id, such as MLG104.",
    }
