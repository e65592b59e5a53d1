"""`mlgitops-serve`: the image's entry point. Environment variables first, flags override."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from serving.errors import SettingsError
from serving.settings import Settings, settings_from_env


def parse_args(argv: Sequence[str] | None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(
        prog="mlgitops-serve",
        description="Serve one ONNX model over the Open Inference Protocol (v2) and KServe v1. "
        "Every flag defaults to its environment variable.",
    )
    parser.add_argument("--model-path", help="MODEL_PATH: the ONNX file")
    parser.add_argument("--model-name", help="MODEL_NAME")
    parser.add_argument("--model-version", help="MODEL_VERSION")
    parser.add_argument("--host", help="HOST (default 0.0.0.0)")
    parser.add_argument("--port", type=int, help="PORT (default 8080)")
    parser.add_argument("--grpc-port", type=int, help="GRPC_PORT (default 8081; 0: no gRPC)")
    parser.add_argument("--workers", type=int, help="WORKERS (default: CPUs)")
    parser.add_argument("--threads", type=int, help="THREADS per worker")
    parser.add_argument(
        "--ort-providers",
        type=lambda s: tuple(p.strip() for p in s.split(",") if p.strip()),
        help="ORT_PROVIDERS, comma separated",
    )
    parser.add_argument("--log-level", type=str.upper, help="LOG_LEVEL")
    parser.add_argument("--log-file", help="LOG_FILE")
    parser.add_argument("--max-request-bytes", type=int, help="MAX_REQUEST_BYTES")
    parser.add_argument("--drain-seconds", type=float, help="DRAIN_SECONDS")
    return {k: v for k, v in vars(parser.parse_args(argv)).items() if v is not None}


def build_settings(argv: Sequence[str] | None = None) -> Settings:
    return settings_from_env(None, **parse_args(argv))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        settings = build_settings(argv)
    except SettingsError as e:
        print(f"mlgitops-serve: {e}", file=sys.stderr)
        return 2
    from serving.server import run

    try:
        run(settings)
    except SettingsError as e:
        print(f"mlgitops-serve: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
