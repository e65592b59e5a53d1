"""Train the digits-classifier example model and export it to ONNX.

A small neural network that serves on GPU in staging and prod: StandardScaler +
MLPClassifier (one hidden layer of 64 units) on scikit-learn's bundled digits
data set (1,797 8x8 grey-level images flattened to 64 float features, 10 classes).

    python models/digits-classifier/train.py

writes ``model.onnx`` next to this script: input ``input`` float32 [N, 64];
outputs ``label`` int64 [N] and ``probabilities`` float32 [N, 10] (ZipMap
disabled, so both are plain tensors).

The fixed seed also fixes the weight initialisation and the mini-batch shuffling,
so the file is reproducible to the byte (see models/example_training.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The script runs as `python models/digits-classifier/train.py`: make models/ importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier

NAME = "digits-classifier"
HERE = Path(__file__).resolve().parent


def main() -> None:
    x_train, x_test, y_train, y_test = split(*load_digits(return_X_y=True), stratify=True)
    classifier = MLPClassifier(
        hidden_layer_sizes=(64,), alpha=1e-3, max_iter=300, early_stopping=False, random_state=SEED
    )
    pipeline = fit(scaled(classifier), x_train, y_train)
    description = "StandardScaler + MLPClassifier on sklearn digits"
    serialized = to_onnx(
        pipeline, name=NAME, n_features=64, description=description, plain_outputs_of=classifier
    )
    check_classifier(serialized, pipeline, x_test, ("label", "probabilities"))
    accuracy = float(pipeline.score(x_test, y_test))
    write_reference(HERE, x_train, load_digits().feature_names)
    write_onnx(HERE, serialized, f"{NAME}: test accuracy {accuracy:.4f} on {len(y_test)} samples")


if __name__ == "__main__":
    main()
