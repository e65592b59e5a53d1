"""What the example models' ``train.py`` scripts share.

Each ``models/<name>/train.py`` keeps what is specific to its model (data set,
estimator, feature count, ONNX output names, metric) and uses this module for
the rest. The build is deterministic: a fixed split, fixed seeds, single-threaded
fitting, a fixed ONNX opset, a fixed graph name, doc string and model version,
and sorted opset imports, so running a script twice gives byte-identical files.
Before writing, a script checks that ONNX Runtime reproduces the scikit-learn
predictions on the test split; it then prints the sha256 of ``model.onnx`` to put
in ``model.yaml`` (spec.artifact.sha256), and says so when the manifest differs.

This is a plain module, not a model: the generator only treats folders with a
``model.yaml`` as models.
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

SEED = 0
TARGET_OPSET = 17


class Fittable(Protocol):
    def fit(self, x: np.ndarray, y: np.ndarray) -> object: ...


Estimator = TypeVar("Estimator", bound=Fittable)


def split(
    x: np.ndarray, y: np.ndarray, *, stratify: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The fixed train/test split: x_train, x_test, y_train, y_test (25 % test)."""
    parts: list[np.ndarray] = train_test_split(
        x, y, test_size=0.25, random_state=SEED, stratify=y if stratify else None
    )
    x_train, x_test, y_train, y_test = parts
    return x_train, x_test, y_train, y_test


def scaled(classifier: object) -> Pipeline:
    """StandardScaler, then ``classifier`` (as the step named "classifier")."""
    return Pipeline([("scaler", StandardScaler()), ("classifier", classifier)])


def fit(estimator: Estimator, x_train: np.ndarray, y_train: np.ndarray) -> Estimator:
    """Fit ``estimator`` with one BLAS thread and return it.

    One thread, so the summation order (and the last bits of the weights) does
    not depend on how many cores the machine that retrains has.
    """
    with threadpool_limits(limits=1):
        estimator.fit(x_train, y_train)
    return estimator


def to_onnx(
    estimator: object,
    *,
    name: str,
    n_features: int,
    description: str,
    plain_outputs_of: object | None = None,
) -> bytes:
    """Convert to serialized ONNX with no run-dependent fields.

    ``plain_outputs_of``: the classifier (step) whose ZipMap to disable, so that
    the labels and probabilities come out as plain tensors.
    """
    options: dict[int, dict[str, Any]] | None = None
    if plain_outputs_of is not None:
        options = {id(plain_outputs_of): {"zipmap": False}}
    model: onnx.ModelProto = convert_sklearn(
        estimator,
        name=name,  # the default graph name is a random uuid
        initial_types=[("input", FloatTensorType([None, n_features]))],
        options=options,
        target_opset=TARGET_OPSET,
    )
    model.doc_string = f"{name}: {description}"
    model.model_version = 1
    # skl2onnx lists the opset domains in set order, which follows the per-process
    # string hash seed, and may list a domain twice: keep one entry per domain
    # (its highest version), sorted, so the bytes are reproducible.
    versions: dict[str, int] = {}
    for opset in model.opset_import:
        versions[opset.domain] = max(versions.get(opset.domain, 0), opset.version)
    del model.opset_import[:]
    model.opset_import.extend(
        onnx.helper.make_opsetid(domain, version) for domain, version in sorted(versions.items())
    )
    serialized: bytes = model.SerializeToString()
    return serialized


def run_onnx(serialized: bytes, x: np.ndarray, outputs: Sequence[str]) -> list[np.ndarray]:
    """Run the model in ONNX Runtime on CPU, fed float32 as a client sends it."""
    session = ort.InferenceSession(serialized, providers=["CPUExecutionProvider"])
    results: list[np.ndarray] = session.run(list(outputs), {"input": x.astype(np.float32)})
    return results


def check_classifier(
    serialized: bytes, classifier: Any, x_test: np.ndarray, outputs: tuple[str, str]
) -> None:
    """Fail unless ONNX Runtime reproduces the labels and probabilities.

    ``outputs``: the names of the label and the probabilities outputs.
    """
    label, probabilities = run_onnx(serialized, x_test, outputs)
    if not np.array_equal(label, classifier.predict(x_test)):
        raise SystemExit("ONNX labels differ from scikit-learn")
    if not np.allclose(probabilities, classifier.predict_proba(x_test), rtol=1e-4, atol=1e-6):
        raise SystemExit("ONNX probabilities differ from scikit-learn")


def check_regressor(serialized: bytes, regressor: Any, x_test: np.ndarray, output: str) -> None:
    """Fail unless ONNX Runtime reproduces the predictions, as an [N, 1] ``output``."""
    (variable,) = run_onnx(serialized, x_test, [output])
    expected = regressor.predict(x_test).reshape(-1, 1)
    if variable.shape != expected.shape or not np.allclose(variable, expected, rtol=1e-4):
        raise SystemExit("ONNX predictions differ from scikit-learn")


def warn_if_stale(folder: Path, digest: str) -> None:
    """Say so when ``folder``'s model.yaml does not carry the hash just written."""
    manifest = folder / "model.yaml"
    if manifest.exists() and not re.search(rf"sha256:\s*\"?{digest}\b", manifest.read_text()):
        print(f"note: update spec.artifact.sha256 in {manifest} to {digest}", file=sys.stderr)


def write_reference(folder: Path, x_train: np.ndarray, names: Sequence[str]) -> None:
    """Write ``folder``/reference.csv: the training inputs under a header of feature names
    (lower-case, ``_`` for anything else), the reference data of ``mlgitops profile``."""
    header = [re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") for name in names]
    lines = [",".join(header)] + [",".join(repr(float(v)) for v in row) for row in x_train]
    (folder / "reference.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_onnx(folder: Path, serialized: bytes, summary: str) -> None:
    """Write ``folder``/model.onnx, print ``summary`` and the sha256 for model.yaml."""
    (folder / "model.onnx").write_bytes(serialized)
    digest = hashlib.sha256(serialized).hexdigest()
    print(summary)
    print(f"sha256 {digest}  model.onnx")
    warn_if_stale(folder, digest)
