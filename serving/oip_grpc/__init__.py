"""The Open Inference Protocol's gRPC API: the proto and the Python code grpcio-tools makes.

`open_inference_grpc.proto` comes from open-inference/open-inference-protocol
(`specification/protocol/open_inference_grpc.proto`, commit dca50b7e, Apache License 2.0,
Copyright 2023 The KServe Authors); `tritonclient.grpc` speaks it (Triton's proto is a
superset with the same package and service names).

The `*_pb2*` files are generated, and committed: `make grpc-stubs` writes them with the pinned
grpcio-tools, and a test regenerates them and fails on any difference. Committed rather than
generated at install time, so that the image and a plain `pip install` need neither protoc
nor grpcio-tools (a 30 MB build dependency), and the generated code is reviewed like the rest;
the proto is placed at the package's path so the generated imports are package-relative.
The generated servicer base raises NotImplementedError in every RPC (grpcio-tools' way of
answering UNIMPLEMENTED); `serving.grpc_api.InferenceServicer` overrides each one, which
`tests/serving/test_grpc.py` checks against the proto's service descriptor.
"""
