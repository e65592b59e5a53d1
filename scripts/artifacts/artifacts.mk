# The MLflow tracking server the artifact source tests start (tests/artifacts). mlflow's server
# pins gunicorn < 27 (ours: 27), so it lives in its own venv; our code uses mlflow-skinny, the
# client, from .venv. 3.17.x: 3.18.0's mlflow-skinny is not served by the index here.
# The auth extra: the test server runs MLflow's basic-auth app (real 401 and 403 answers);
# onnx and onnxruntime: the tests log models with mlflow.onnx.log_model in this venv.
# Included from the Makefile.
MLFLOW_VERSION := 3.17.2
MLFLOW_VENV := .venv-mlflow

.PHONY: artifact-test-deps

$(MLFLOW_VENV)/.installed: scripts/artifacts/artifacts.mk
	test -x $(MLFLOW_VENV)/bin/python || $(PYTHON) -m venv $(MLFLOW_VENV)
	$(MLFLOW_VENV)/bin/python -m pip install --quiet "mlflow[auth]==$(MLFLOW_VERSION)" onnx==1.23.2 onnxruntime==1.32.0
	touch $(MLFLOW_VENV)/.installed

artifact-test-deps: $(MLFLOW_VENV)/.installed
