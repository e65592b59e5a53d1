# Serving targets; included from the Makefile (`include serving/serving.mk`).
# Debian tools the serving tests and benchmark need: promtool (prometheus) and wrk.
.PHONY: serving-deps bench-serving-deps grpc-stubs

serving-deps:
	scripts/install-apt.sh prometheus wrk

# MLServer conflicts with our pins, so the benchmark's peer lives in its own venv.
.venv-bench/.installed:
	test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	# uvloop 0.23 breaks MLServer 1.7.1's parallel workers (no current event loop); 0.21 works.
	.venv-bench/bin/python -m pip install --quiet mlserver==1.7.1 mlserver-sklearn==1.7.1 scikit-learn==1.9.1 uvloop==0.21.0
	touch .venv-bench/.installed

# The other peers, each in its own venv too: KServe's ModelServer and BentoML (bench/peers).
.venv-kserve/.installed:
	test -x .venv-kserve/bin/python || $(PYTHON) -m venv .venv-kserve
	.venv-kserve/bin/python -m pip install --quiet kserve==0.21.0 onnxruntime==1.32.0
	touch .venv-kserve/.installed

.venv-bentoml/.installed:
	test -x .venv-bentoml/bin/python || $(PYTHON) -m venv .venv-bentoml
	.venv-bentoml/bin/python -m pip install --quiet bentoml==1.4.40 onnxruntime==1.32.0
	touch .venv-bentoml/.installed

# The compiled-HTTP-layer trial (bench/granian_app.py): granian beside our package, bench only.
.venv/.granian-installed: $(STAMP)
	$(BIN)/python -m pip install --quiet granian==2.8.9
	touch .venv/.granian-installed

bench-serving-deps: serving-deps .venv-bench/.installed .venv-kserve/.installed .venv-bentoml/.installed .venv/.granian-installed
	# h2load drives the gRPC points' calls/s (bench/grpc_load.py).
	scripts/install-apt.sh nghttp2-client

# The gRPC API's Python code, committed (serving/oip_grpc/__init__.py says why); a test checks it.
GRPC_PROTO := serving/oip_grpc/open_inference_grpc.proto
grpc-stubs: $(STAMP)
	$(BIN)/python -m grpc_tools.protoc -I . --python_out=. --pyi_out=. --grpc_python_out=. $(GRPC_PROTO)
