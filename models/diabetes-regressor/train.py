"""Train the diabetes-regressor example model and export it to ONNX.

A CPU regressor: Ridge regression on scikit-learn's bundled diabetes data set
(442 patients, 10 standardised float features, target: disease progression
one year after baseline).

    python models/diabetes-regressor/train.py

writes ``model.onnx`` next to this script: input ``input`` float32 [N, 10],
output ``variable`` float32 [N, 1]. How the build stays deterministic, checked and
hashed is in models/example_training.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

# The script runs as `python models/diabetes-regressor/train.py`: make models/ importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from example_training import check_regressor, fit, split, to_onnx, write_onnx, write_reference
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

NAME = "diabetes-regressor"
HERE = Path(__file__).resolve().parent


def main() -> None:
    x_train, x_test, y_train, y_test = split(*load_diabetes(return_X_y=True), stratify=False)
    regressor = fit(Ridge(alpha=0.1), x_train, y_train)
    description = "Ridge regression on sklearn diabetes"
    serialized = to_onnx(regressor, name=NAME, n_features=10, description=description)
    check_regressor(serialized, regressor, x_test, "variable")
    r2 = float(regressor.score(x_test, y_test))
    write_reference(HERE, x_train, load_diabetes().feature_names)
    write_onnx(HERE, serialized, f"{NAME}: test R^2 {r2:.4f} on {len(y_test)} samples")


if __name__ == "__main__":
    main()
