"""Typed server settings, read once from the environment.

The generated ConfigMap and Deployment set these variables; their names are a public contract
shared with the generator, so they are spelled here exactly once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from serving.errors import SettingsError

DEFAULT_PORT = 8080
DEFAULT_GRPC_PORT = 8081
DEFAULT_MAX_REQUEST_BYTES = 8 * 1024 * 1024
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def available_cpus() -> int:
    """CPUs this process may run on; a container's cpuset shrinks it, a CFS quota does not."""
    return max(1, len(os.sched_getaffinity(0)))


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the server needs to start, with defaults fit for one small CPU pod."""

    model_path: str
    """Path of the ONNX file (MODEL_PATH). A missing or broken file leaves the server not ready."""
    model_name: str = "model"
    """Name under which the model is served (MODEL_NAME)."""
    model_version: str = "1"
    """Version reported and accepted in versioned routes (MODEL_VERSION)."""
    host: str = "0.0.0.0"
    """Bind address (HOST); tests and benchmarks bind 127.0.0.1."""
    port: int = DEFAULT_PORT
    """TCP port (PORT)."""
    grpc_port: int = DEFAULT_GRPC_PORT
    """TCP port of the Open Inference Protocol's gRPC API (GRPC_PORT); 0 turns it off."""
    workers: int = field(default_factory=available_cpus)
    """Gunicorn worker processes (WORKERS); each holds its own ONNX Runtime session."""
    threads: int = 1
    """Threads per worker (THREADS). With one, the worker's event loop serves each request
    itself (`serving.worker`); more overlap long inference calls, which release the GIL."""
    ort_providers: tuple[str, ...] = ("CPUExecutionProvider",)
    """ONNX Runtime execution providers in order of preference (ORT_PROVIDERS)."""
    intra_op_threads: int = 0
    """ONNX Runtime intra-op threads (ORT_INTRA_OP_THREADS); 0 means CPUs divided by workers.
    The generator renders it from the pod's CPU request, which the server cannot see."""
    allow_fallback: bool = False
    """ORT_ALLOW_FALLBACK. false: the server is ready only while the first provider of
    ORT_PROVIDERS is active, so a GPU deployment whose CUDA provider cannot start shows as
    not ready instead of quietly computing on the CPU. true: it serves on what started."""
    log_level: str = "INFO"
    """Minimum level of the JSON log (LOG_LEVEL)."""
    log_file: str | None = None
    """Also append the JSON log lines to this file, for the Fluentd sidecar (LOG_FILE)."""
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    """Largest request body accepted; larger ones get 413 (MAX_REQUEST_BYTES)."""
    body_timeout: float = 30.0
    """A client that sends nothing of its request body for this long gets 408 and is cut off,
    so slow (slowloris) bodies cannot hold every worker thread (BODY_TIMEOUT)."""
    drain_seconds: float = 5.0
    """After SIGTERM, report not ready but keep serving this long so load balancers stop
    routing here before the listener closes (DRAIN_SECONDS)."""
    graceful_timeout: float = 30.0
    """After draining, how long in-flight requests may take before workers are killed
    (GRACEFUL_TIMEOUT)."""
    model_profile: str = ""
    """Reference profile of the model (MODEL_PROFILE, profile.json from ``mlgitops profile``);
    set: inputs and predictions are counted per profile bin (`serving.drift`). Empty: off."""
    cors_allowed_origins: tuple[str, ...] = ()
    """Origins whose browser clients may call the API (CORS_ALLOWED_ORIGINS, comma separated;
    `*` for any). Empty: no CORS headers, as before."""
    metrics_dir: str = ""
    """Prometheus multiprocess directory (PROMETHEUS_MULTIPROC_DIR); wiped at start."""

    def __post_init__(self) -> None:
        if not self.model_path:
            raise SettingsError("MODEL_PATH is required: the path of the model's ONNX file")
        if not 0 < self.port < 65536:
            raise SettingsError(f"PORT must be between 1 and 65535, got {self.port}")
        if not 0 <= self.grpc_port < 65536:
            raise SettingsError(f"GRPC_PORT must be between 0 and 65535, got {self.grpc_port}")
        if self.grpc_port == self.port:
            raise SettingsError(f"GRPC_PORT and PORT must differ, both are {self.port}")
        for name, value in (("WORKERS", self.workers), ("THREADS", self.threads)):
            if value < 1:
                raise SettingsError(f"{name} must be at least 1, got {value}")
        if self.intra_op_threads < 0:
            raise SettingsError("ORT_INTRA_OP_THREADS must not be negative")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        if self.max_request_bytes < 1:
            raise SettingsError("MAX_REQUEST_BYTES must be positive")
        if self.body_timeout <= 0:
            raise SettingsError("BODY_TIMEOUT must be positive")
        if self.drain_seconds < 0 or self.graceful_timeout < 0:
            raise SettingsError("DRAIN_SECONDS and GRACEFUL_TIMEOUT must not be negative")
        if not self.ort_providers:
            raise SettingsError("ORT_PROVIDERS must name at least one execution provider")

    @property
    def ort_threads(self) -> int:
        """Intra-op threads per session: ONNX Runtime would otherwise size its pool from the
        host's cores, oversubscribing the pod's CPU limit once per worker."""
        if self.intra_op_threads:
            return self.intra_op_threads
        return max(1, available_cpus() // self.workers)

    def with_overrides(self, **changes: Any) -> Settings:
        """Apply command-line flags that were given (None means not given)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


_ENV_NAMES = {
    "model_path": "MODEL_PATH",
    "model_name": "MODEL_NAME",
    "model_version": "MODEL_VERSION",
    "host": "HOST",
    "port": "PORT",
    "grpc_port": "GRPC_PORT",
    "workers": "WORKERS",
    "threads": "THREADS",
    "ort_providers": "ORT_PROVIDERS",
    "intra_op_threads": "ORT_INTRA_OP_THREADS",
    "allow_fallback": "ORT_ALLOW_FALLBACK",
    "log_level": "LOG_LEVEL",
    "log_file": "LOG_FILE",
    "max_request_bytes": "MAX_REQUEST_BYTES",
    "body_timeout": "BODY_TIMEOUT",
    "drain_seconds": "DRAIN_SECONDS",
    "graceful_timeout": "GRACEFUL_TIMEOUT",
    "cors_allowed_origins": "CORS_ALLOWED_ORIGINS",
    "metrics_dir": "PROMETHEUS_MULTIPROC_DIR",
    "model_profile": "MODEL_PROFILE",
}


_INTEGERS = ("port", "grpc_port", "workers", "threads", "intra_op_threads", "max_request_bytes")


def _convert(field_name: str, env_name: str, raw: str) -> Any:
    try:
        if field_name in _INTEGERS:
            return int(raw)
        if field_name in ("body_timeout", "drain_seconds", "graceful_timeout"):
            return float(raw)
    except ValueError as e:
        raise SettingsError(f"{env_name} must be a number, got {raw!r}") from e
    if field_name == "allow_fallback":
        if raw.lower() not in ("true", "false"):
            raise SettingsError(f"{env_name} must be true or false, got {raw!r}")
        return raw.lower() == "true"
    if field_name in ("ort_providers", "cors_allowed_origins"):
        return tuple(p.strip() for p in raw.split(",") if p.strip())
    if field_name == "log_level":
        return raw.strip().upper()
    return raw


def settings_from_env(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from the environment; empty variables count as unset."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {"model_path": ""}
    for field_name, env_name in _ENV_NAMES.items():
        raw = env.get(env_name, "")
        if raw.strip():
            values[field_name] = _convert(field_name, env_name, raw.strip())
    values.update({k: v for k, v in overrides.items() if v is not None})
    if not values.get("metrics_dir"):
        values["metrics_dir"] = os.path.join(env.get("TMPDIR", "/tmp"), "mlgitops-metrics")
    return Settings(**values)
