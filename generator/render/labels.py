"""Labels and names shared by every rendered object."""

from __future__ import annotations

NAME_LABEL = "app.kubernetes.io/name"
ENVIRONMENT_LABEL = "mlgitops.io/environment"
OWNER_LABEL = "mlgitops.io/owner"
MANAGED_BY = {"app.kubernetes.io/managed-by": "mlgitops"}
SERVER_CONTAINER = "server"
SERVER_PORT = 8080
GRPC_PORT = 8081  # the Open Inference Protocol's gRPC API (serving's GRPC_PORT)
RUN_AS_USER = 10001
LOG_DIR = "/var/log/model"
FLUENTD_CONFIGMAP = "mlgitops-fluentd"


def selector(model: str) -> dict[str, str]:
    return {NAME_LABEL: model}


def model_labels(model: str, owner: str, version: str) -> dict[str, str]:
    return {
        NAME_LABEL: model,
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/component": "model-server",
        "app.kubernetes.io/part-of": "mlgitops",
        **MANAGED_BY,
        OWNER_LABEL: owner,
    }


def config_map_name(model: str) -> str:
    return f"{model}-config"


def restricted_container_security() -> dict[str, object]:
    """Pod Security Standards ``restricted``, stated per container so it survives patches."""
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }
