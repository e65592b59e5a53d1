"""Fixtures for the artifact tests: small real ONNX models (with and without external data),
a repository that holds one model.yaml, the CLI run in-process with a private cache, and the
real servers of tests/artifacts/servers.py, each started once per session."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.artifacts import servers
from tests.conftest import Outcome, run_cli
from tests.policy.conftest import REPO_ROOT

WIDTH = 64
"""Weights of WIDTH x WIDTH float32: 16 KiB, above ONNX's 1 KiB external data threshold."""
SIGNATURE = (
    "{inputs: [{name: x, datatype: FP32, shape: [-1, 64]}], "
    "outputs: [{name: y, datatype: FP32, shape: [-1, 64]}]}"
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def matmul_model(seed: int) -> onnx.ModelProto:
    """y = x @ W with W drawn from ``seed``: each seed is a different model, same interface."""
    weights = np.random.default_rng(seed).standard_normal((WIDTH, WIDTH)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "W"], ["y"])],
        "matmul",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", WIDTH])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", WIDTH])],
        initializer=[numpy_helper.from_array(weights, "W")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


@dataclass(frozen=True)
class Exported:
    """An ONNX export: the graph file and the data files beside it (location -> bytes)."""

    graph: bytes
    data: dict[str, bytes]

    @property
    def sha256(self) -> str:
        return sha256(self.graph)

    def external_yaml(self) -> str:
        if not self.data:
            return ""
        items = ", ".join(f"{{path: {p}, sha256: {sha256(b)}}}" for p, b in self.data.items())
        return f", externalData: [{items}]"

    def write(self, folder: Path, name: str = "model.onnx") -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(self.graph)
        for location, data in self.data.items():
            (folder / location).write_bytes(data)
        return folder / name


def export(seed: int, *, external: str = "", scratch: Path) -> Exported:
    """Save the seed's model as one file, or with its weights in ``external`` beside it."""
    folder = scratch / f"export-{seed}-{external or 'plain'}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    model = matmul_model(seed)
    if external:
        onnx.save_model(
            model,
            str(folder / "model.onnx"),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=external,
            size_threshold=1024,
        )
    else:
        onnx.save_model(model, str(folder / "model.onnx"))
    data = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "model.onnx"}
    return Exported((folder / "model.onnx").read_bytes(), data)


def model_yaml(artifact: str, exported: Exported, *, name: str = "fraud") -> str:
    """A model.yaml whose spec.artifact is ``artifact`` (a flow mapping's first entry)."""
    return (
        "apiVersion: mlgitops/v1\n"
        "kind: Model\n"
        f"metadata: {{name: {name}, owner: team-risk}}\n"
        "spec:\n"
        '  version: "1.0.0"\n'
        f"  artifact: {{{artifact}, sha256: {exported.sha256}{exported.external_yaml()}}}\n"
        "  resources: {cpu: 250m, memory: 256Mi}\n"
        f"  signature: {SIGNATURE}\n"
    )


@dataclass
class Workspace:
    """A repository with environments.yaml and models/fraud/, and a private artifact cache."""

    root: Path
    cache: Path

    def write_model(self, text: str, files: dict[str, bytes] | None = None) -> Path:
        folder = self.root / "models" / "fraud"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.yaml").write_text(text, encoding="utf-8")
        for name, data in (files or {}).items():
            (folder / name).write_bytes(data)
        return folder

    def run(self, *args: str) -> Outcome:
        return run_cli(*args, root=self.root)

    def cached(self) -> list[str]:
        """What the cache holds: verified files by sha256; staging must be empty."""
        partial = self.cache / "partial"
        assert not partial.exists() or not any(partial.iterdir()), list(partial.iterdir())
        folder = self.cache / "sha256"
        return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    root = tmp_path / "repo"
    root.mkdir()
    platform = (REPO_ROOT / "environments.yaml").read_text(encoding="utf-8")
    (root / "environments.yaml").write_text(
        platform.replace("requireDigest: true", "requireDigest: false"), encoding="utf-8"
    )
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache-home"))
    for name, value in servers.QUIET_MLFLOW.items():
        monkeypatch.setenv(name, value)
    return Workspace(root, tmp_path / "cache-home" / "mlgitops")


@pytest.fixture(scope="session")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("exports")


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.WebServer]:
    served, server = servers.start_web_server(tmp_path_factory.mktemp("web"))
    yield served
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[servers.S3Server]:
    server, process = servers.start_s3_server(tmp_path_factory.mktemp("s3"))
    yield server
    servers.stop(process)


@dataclass(frozen=True)
class Registry:
    """The MLflow tracking server and what the session registered in it."""

    url: str
    models: dict[str, list[Exported]]
    """Registered model name -> its versions as the registry serves them (version 1 first)."""


REGISTERED = {
    # name: [(seed, with external data), ...], registered as versions 1, 2, ...
    "plain": [(1, False)],
    "external": [(2, True)],
    "moving": [(3, False), (4, False)],
}


def served_export(folder: Path) -> Exported:
    """A logged model as MLflow stores it: the graph its MLmodel names, and the data files the
    graph references (read with onnx itself)."""
    import yaml

    description = yaml.safe_load((folder / "MLmodel").read_text(encoding="utf-8"))
    graph = folder / description["flavors"]["onnx"]["data"]
    model = onnx.load(str(graph), load_external_data=False)
    locations = {
        entry.value
        for tensor in model.graph.initializer
        for entry in tensor.external_data
        if entry.key == "location"
    }
    return Exported(
        graph.read_bytes(), {loc: (graph.parent / loc).read_bytes() for loc in locations}
    )


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory, scratch: Path) -> Iterator[Registry]:
    """One MLflow server for the session; models logged with mlflow.onnx.log_model, as a data
    scientist would, and the alias ``champion`` on version 1 of each."""
    workdir = tmp_path_factory.mktemp("mlflow")
    url, process = servers.start_mlflow_server(workdir)
    try:
        plan: list[dict[str, object]] = []
        for name, versions in REGISTERED.items():
            for number, (seed, external) in enumerate(versions, start=1):
                model_file = scratch / f"registered-{name}-{seed}.onnx"
                onnx.save_model(matmul_model(seed), str(model_file))
                alias = "champion" if number == 1 else ""
                plan.append(
                    {"name": name, "file": str(model_file), "alias": alias, "external": external}
                )
        models: dict[str, list[Exported]] = {}
        for line in servers.register_models(url, plan, workdir):
            models.setdefault(line["name"], []).append(served_export(Path(line["folder"])))
        yield Registry(url, models)
    finally:
        servers.stop(process)
