"""Train the iris-classifier example model and export it to ONNX.

A CPU classifier: StandardScaler + LogisticRegression on scikit-learn's bundled
iris data set (150 flowers, 4 float features, 3 classes).

    python models/iris-classifier/train.py

writes, next to this script:

- ``model.onnx``: input ``input`` float32 [N, 4]; outputs ``label`` int64 [N] and
  ``probabilities`` float32 [N, 3] (ZipMap disabled, so both are plain tensors).
- ``model.joblib``: the fitted scikit-learn pipeline, for benchmarks that compare
  against MLServer's scikit-learn runtime.

Reproducible to the byte, like the other example models (see models/example_training.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The script runs as `python models/iris-classifier/train.py`: make models/ importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import joblib
from example_training import (
    SEED,
    check_classifier,
    fit,
    scaled,
    split,
    to_onnx,
    write_onnx,
    write_reference,
)
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

NAME = "iris-classifier"
HERE = Path(__file__).resolve().parent


def main() -> None:
    x_train, x_test, y_train, y_test = split(*load_iris(return_X_y=True), stratify=True)
    classifier = LogisticRegression(max_iter=1000, random_state=SEED)
    pipeline = fit(scaled(classifier), x_train, y_train)
    description = "StandardScaler + LogisticRegression on sklearn iris"
    serialized = to_onnx(
        pipeline, name=NAME, n_features=4, description=description, plain_outputs_of=classifier
    )
    check_classifier(serialized, pipeline, x_test, ("label", "probabilities"))
    joblib.dump(pipeline, HERE / "model.joblib")
    accuracy = float(pipeline.score(x_test, y_test))
    write_reference(HERE, x_train, load_iris().feature_names)
    write_onnx(HERE, serialized, f"{NAME}: test accuracy {accuracy:.4f} on {len(y_test)} samples")


if __name__ == "__main__":
    main()
