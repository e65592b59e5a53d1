"""``mlgitops init`` and the signature check, with small real ONNX models built in tmp_path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx
import pytest
from onnx import TensorProto, helper

from tests.conftest import run_cli
from tests.policy.conftest import REPO_ROOT

IRIS = REPO_ROOT / "models" / "iris-classifier" / "model.onnx"


def identity_model(path: Path, width: int, name: str = "features") -> Path:
    """A one-node ONNX graph: FP32 [batch, width] in, the same out, plus an INT64 count."""
    graph = helper.make_graph(
        [
            helper.make_node("Identity", [name], ["scores"]),
            helper.make_node("Shape", [name], ["shape"]),
        ],
        "identity",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, ["batch", width])],
        [
            helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", width]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO_ROOT / "environments.yaml", root / "environments.yaml")
    return root


def test_init_creates_a_model_that_validates_as_written(repo: Path, tmp_path: Path) -> None:
    artifact = identity_model(tmp_path / "exported.onnx", 3)

    outcome = run_cli(
        "init", "fraud", "--artifact", str(artifact), "--owner", "team-risk", root=repo
    )

    assert outcome.exit_code == 0, outcome.stderr
    assert outcome.stdout.splitlines()[1] == (
        "next: edit models/fraud/model.yaml, then run 'mlgitops validate'"
    )
    folder = repo / "models" / "fraud"
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx", "model.yaml"]
    assert (folder / "model.onnx").read_bytes() == artifact.read_bytes()
    text = (folder / "model.yaml").read_text(encoding="utf-8")
    assert '  owner: "team-risk"\n' in text
    assert (
        "    inputs:\n"
        '      - {name: "features", datatype: FP32, shape: [-1, 3]}\n'
        "    outputs:\n"
        '      - {name: "scores", datatype: FP32, shape: [-1, 3]}\n'
        '      - {name: "shape", datatype: INT64, shape: [2]}\n'
    ) in text
    validated = run_cli("validate", root=repo)
    assert (validated.exit_code, validated.stderr) == (0, "")


def test_init_json_output_carries_sha256_and_signature(repo: Path) -> None:
    outcome = run_cli("--format", "json", "init", "iris", "--artifact", str(IRIS), root=repo)

    assert outcome.exit_code == 0
    result = json.loads(outcome.stdout)
    assert result["folder"] == "models/iris"
    assert result["sha256"] == "255ba73ffceb5716ce3c2478ecba174297babeed07f7e41ee2bd2ccca024ad90"
    assert result["signature"]["inputs"] == [
        {"name": "input", "datatype": "FP32", "shape": [-1, 4]}
    ]


@pytest.mark.parametrize(
    ("name", "artifact", "code", "stderr"),
    [
        pytest.param(
            "Bad_Name",
            IRIS,
            2,
            "error: model name 'Bad_Name' is not a DNS-1123 label\n"
            "  hint: use lower-case letters, digits and '-', starting and ending with a letter "
            "or digit\n",
            id="invalid-name",
        ),
        pytest.param(
            "a" * 41,
            IRIS,
            2,
            f"error: model name '{'a' * 41}' is 41 characters long; at most 40 are allowed\n"
            "  hint: choose a shorter name (it prefixes every Kubernetes object of the model)\n",
            id="long-name",
        ),
        pytest.param(
            "3d-detector",
            IRIS,
            2,
            "error: model name '3d-detector' also names the model's Service: it must be "
            "lower-case letters, digits and '-', starting with a letter and ending with a letter "
            "or digit (a DNS-1035 label)\n"
            "  hint: use lower-case letters, digits and '-', starting with a letter\n",
            id="service-name-starts-with-digit",
        ),
        pytest.param(
            "fraud",
            Path("/nonexistent/model.onnx"),
            2,
            "error: artifact /nonexistent/model.onnx does not exist or is not a file\n"
            "  hint: pass the path of an .onnx file with --artifact\n",
            id="missing-artifact",
        ),
    ],
)
def test_init_refuses_bad_arguments_and_writes_nothing(
    repo: Path, name: str, artifact: Path, code: int, stderr: str
) -> None:
    outcome = run_cli("init", name, "--artifact", str(artifact), root=repo)

    assert (outcome.exit_code, outcome.stderr) == (code, stderr)
    assert not (repo / "models").exists()


def test_init_refuses_a_file_that_is_not_onnx(repo: Path, tmp_path: Path) -> None:
    junk = tmp_path / "model.onnx"
    junk.write_text("not a model\n")

    outcome = run_cli("init", "fraud", "--artifact", str(junk), root=repo)

    assert outcome.exit_code == 1
    assert outcome.stderr.startswith(f"error: artifact {junk}: not an ONNX model (")
    assert outcome.stderr.endswith(
        "  hint: export the model to ONNX first (for scikit-learn: skl2onnx)\n"
    )
    assert not (repo / "models").exists()


def test_init_refuses_a_model_whose_output_is_not_a_tensor(repo: Path, tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("SequenceConstruct", ["x"], ["seq"])],
        "seq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_sequence_value_info("seq", TensorProto.FLOAT, [1])],
    )
    path = tmp_path / "seq.onnx"
    onnx.save(helper.make_model(graph), str(path))

    outcome = run_cli("init", "seq", "--artifact", str(path), root=repo)

    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines()[0] == (
        f"error: artifact {path}: output 'seq' is a sequence_type, not a tensor; the Open "
        "Inference Protocol serves tensors only (for scikit-learn classifiers, convert with "
        "options={'zipmap': False})"
    )


def test_init_refuses_an_existing_folder(repo: Path) -> None:
    assert run_cli("init", "iris", "--artifact", str(IRIS), root=repo).exit_code == 0
    before = (repo / "models" / "iris" / "model.yaml").read_text()

    outcome = run_cli("init", "iris", "--artifact", str(IRIS), root=repo)

    assert (outcome.exit_code, outcome.stderr) == (
        1,
        "error: models/iris already exists\n"
        "  hint: choose another name, or edit the existing model.yaml\n",
    )
    assert (repo / "models" / "iris" / "model.yaml").read_text() == before


def test_a_changed_interface_is_an_error_naming_the_tensor(repo: Path, tmp_path: Path) -> None:
    artifact = identity_model(tmp_path / "v1.onnx", 3)
    assert run_cli("init", "fraud", "--artifact", str(artifact), root=repo).exit_code == 0
    folder = repo / "models" / "fraud"
    identity_model(folder / "model.onnx", 5)
    sha256 = run_cli(
        "--format", "json", "init", "x", "--artifact", str(folder / "model.onnx"), root=tmp_path
    )
    new_sha = json.loads(sha256.stdout)["sha256"]
    text = (folder / "model.yaml").read_text()
    start = text.index('sha256: "') + len('sha256: "')
    (folder / "model.yaml").write_text(text[:start] + new_sha + text[start + 64 :])

    outcome = run_cli("validate", "--skip-build", root=repo)

    assert outcome.exit_code == 1
    fix = (
        "  hint: if the new interface is intended (clients must change too), set signature: "
        '{inputs: [{name: "features", datatype: FP32, shape: [-1, 5]}], outputs: '
        '[{name: "scores", datatype: FP32, shape: [-1, 5]}, '
        '{name: "shape", datatype: INT64, shape: [2]}]}'
    )
    assert outcome.stderr.splitlines() == [
        "models/fraud/model.yaml:30:5: models/fraud/model.onnx does not match spec.signature: "
        "input 'features' shape changed: [-1, 3] -> [-1, 5]",
        fix,
        "models/fraud/model.yaml:30:5: models/fraud/model.onnx does not match spec.signature: "
        "output 'scores' shape changed: [-1, 3] -> [-1, 5]",
        fix,
    ]
