"""The servers a team would pick instead of ours for a custom ONNX model, each calling ONNX
Runtime the way its documentation shows; each runs in its own virtual environment
(`.venv-kserve`, `.venv-bentoml`, `.venv-bench` for MLServer), started by `bench.serving`."""
