"""Train the iris-classifier example model and export it to ONNX.

A CPU classifier: StandardScaler + LogisticRegression on scikit-learn's bundled
iris data set (150 flowers, 4 float features, 3 classes).

    python models/iris-classifier/train.py

writes, next to this script:

- ``model.onnx``: input ``input`` float32 [N, 4]; outputs ``label`` int64 [N] and
  ``probabilities`` float32 [N, 3] (ZipMap disabled, so both are plain tensors).
- ``model.joblib``: the fitted scikit-learn pipeline, for benchmarks that compare
  against MLServer's scikit-learn runtime.

The build is deterministic: a fixed split, fixed seeds, a fixed ONNX opset and a
fixed graph name, so running it twice gives byte-identical files. Before writing,
it checks that ONNX Runtime reproduces the scikit-learn predictions on the test
split. It prints the sha256 to put in ``model.yaml`` (spec.artifact.sha256).
"""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import joblib
import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

NAME = "iris-classifier"
HERE = Path(__file__).resolve().parent
SEED = 0
TARGET_OPSET = 17
N_FEATURES = 4


def build_model() -> tuple[Pipeline, np.ndarray, np.ndarray]:
    """Fit the pipeline on the training split; return it with the test split."""
    x, y = load_iris(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=SEED, stratify=y
    )
    pipeline = Pipeline(
        [
            ("scaler", StandardScaler()),
            ("classifier", LogisticRegression(max_iter=1000, random_state=SEED)),
        ]
    )
    # One BLAS thread, so the summation order (and the last bits of the weights)
    # does not depend on how many cores the machine that retrains has.
    with threadpool_limits(limits=1):
        pipeline.fit(x_train, y_train)
    return pipeline, x_test, y_test


def to_onnx(pipeline: Pipeline) -> onnx.ModelProto:
    """Convert to ONNX with plain tensor outputs and no run-dependent fields."""
    classifier = pipeline.named_steps["classifier"]
    model: onnx.ModelProto = convert_sklearn(
        pipeline,
        name=NAME,  # the default graph name is a random uuid
        initial_types=[("input", FloatTensorType([None, N_FEATURES]))],
        options={id(classifier): {"zipmap": False}},
        target_opset=TARGET_OPSET,
    )
    model.doc_string = f"{NAME}: StandardScaler + LogisticRegression on sklearn iris"
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


def check_onnx(serialized: bytes, pipeline: Pipeline, x_test: np.ndarray) -> None:
    """Fail unless ONNX Runtime reproduces the scikit-learn predictions."""
    session = ort.InferenceSession(serialized, providers=["CPUExecutionProvider"])
    inputs = {"input": x_test.astype(np.float32)}  # what a client sends
    label, probabilities = session.run(["label", "probabilities"], inputs)
    if not np.array_equal(label, pipeline.predict(x_test)):
        raise SystemExit("ONNX labels differ from scikit-learn")
    if not np.allclose(probabilities, pipeline.predict_proba(x_test), rtol=1e-4, atol=1e-6):
        raise SystemExit("ONNX probabilities differ from scikit-learn")


def warn_if_stale(digest: str) -> None:
    """Say so when model.yaml does not carry the hash just written."""
    manifest = HERE / "model.yaml"
    if manifest.exists() and not re.search(rf"sha256:\s*\"?{digest}\b", manifest.read_text()):
        print(f"note: update spec.artifact.sha256 in {manifest} to {digest}", file=sys.stderr)


def main() -> None:
    pipeline, x_test, y_test = build_model()
    serialized = to_onnx(pipeline).SerializeToString()
    check_onnx(serialized, pipeline, x_test)

    (HERE / "model.onnx").write_bytes(serialized)
    joblib.dump(pipeline, HERE / "model.joblib")

    digest = hashlib.sha256(serialized).hexdigest()
    accuracy = float(pipeline.score(x_test, y_test))
    print(f"{NAME}: test accuracy {accuracy:.4f} on {len(y_test)} samples")
    print(f"sha256 {digest}  model.onnx")
    warn_if_stale(digest)


if __name__ == "__main__":
    main()
