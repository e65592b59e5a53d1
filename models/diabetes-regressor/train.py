"""Train the diabetes-regressor example model and export it to ONNX.

A CPU regressor: Ridge regression on scikit-learn's bundled diabetes data set
(442 patients, 10 standardised float features, target: disease progression
one year after baseline).

    python models/diabetes-regressor/train.py

writes ``model.onnx`` next to this script: input ``input`` float32 [N, 10],
output ``variable`` float32 [N, 1].

The build is deterministic: a fixed split, a fixed ONNX opset and a fixed graph
name, so running it twice gives a byte-identical file. Before writing, it checks
that ONNX Runtime reproduces the scikit-learn predictions on the test split. It
prints the sha256 to put in ``model.yaml`` (spec.artifact.sha256).
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

NAME = "diabetes-regressor"
HERE = Path(__file__).resolve().parent
SEED = 0
TARGET_OPSET = 17
N_FEATURES = 10


def build_model() -> tuple[Ridge, np.ndarray, np.ndarray]:
    """Fit the regressor on the training split; return it with the test split."""
    x, y = load_diabetes(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=SEED)
    regressor = Ridge(alpha=0.1)
    # One BLAS thread, so the summation order (and the last bits of the weights)
    # does not depend on how many cores the machine that retrains has.
    with threadpool_limits(limits=1):
        regressor.fit(x_train, y_train)
    return regressor, x_test, y_test


def to_onnx(regressor: Ridge) -> onnx.ModelProto:
    """Convert to ONNX with no run-dependent fields."""
    model: onnx.ModelProto = convert_sklearn(
        regressor,
        name=NAME,  # the default graph name is a random uuid
        initial_types=[("input", FloatTensorType([None, N_FEATURES]))],
        target_opset=TARGET_OPSET,
    )
    model.doc_string = f"{NAME}: Ridge regression on sklearn diabetes"
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
    return model


def check_onnx(serialized: bytes, regressor: Ridge, x_test: np.ndarray) -> None:
    """Fail unless ONNX Runtime reproduces the scikit-learn predictions."""
    session = ort.InferenceSession(serialized, providers=["CPUExecutionProvider"])
    inputs = {"input": x_test.astype(np.float32)}  # what a client sends
    (variable,) = session.run(["variable"], inputs)
    expected = regressor.predict(x_test).reshape(-1, 1)
    if variable.shape != expected.shape or not np.allclose(variable, expected, rtol=1e-4):
        raise SystemExit("ONNX predictions differ from scikit-learn")


def warn_if_stale(digest: str) -> None:
    """Say so when model.yaml does not carry the hash just written."""
    manifest = HERE / "model.yaml"
    if manifest.exists() and not re.search(rf"sha256:\s*\"?{digest}\b", manifest.read_text()):
        print(f"note: update spec.artifact.sha256 in {manifest} to {digest}", file=sys.stderr)


def main() -> None:
    regressor, x_test, y_test = build_model()
    serialized = to_onnx(regressor).SerializeToString()
    check_onnx(serialized, regressor, x_test)

    (HERE / "model.onnx").write_bytes(serialized)

    digest = hashlib.sha256(serialized).hexdigest()
    r2 = float(regressor.score(x_test, y_test))
    print(f"{NAME}: test R^2 {r2:.4f} on {len(y_test)} samples")
    print(f"sha256 {digest}  model.onnx")
    warn_if_stale(digest)


if __name__ == "__main__":
    main()
