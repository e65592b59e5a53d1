"""The pod's grace period covers the model server's own shutdown.

On SIGTERM the server drains for DRAIN_SECONDS, then lets requests in flight finish within
GRACEFUL_TIMEOUT; the kubelet sends SIGKILL ``terminationGracePeriodSeconds`` after SIGTERM
(30 when unset). A shorter grace period kills slow requests that the server would have
finished. The rule reads both variables where the server container gets them (``env``, or a
ConfigMap of the same overlay through ``envFrom``), with the server's defaults (5 and 30).

PASS::

    spec:
      terminationGracePeriodSeconds: 45   # DRAIN_SECONDS 5 + GRACEFUL_TIMEOUT 30 + 10
      containers: [{name: server, image: registry.example.com/ml/iris-classifier:1.0.0}]

FAIL::

    spec:
      terminationGracePeriodSeconds: 30   # with DRAIN_SECONDS 5 and GRACEFUL_TIMEOUT 30
      containers: [{name: server, image: registry.example.com/ml/iris-classifier:1.0.0}]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from generator.policy.engine import OverlayContext
from generator.policy.workloads import (
    Object,
    containers,
    name_of,
    objects_of_kind,
    pod_spec,
    violation,
)
from generator.problems import Problem
from generator.render.labels import SERVER_CONTAINER
from generator.render.lifecycle import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_GRACEFUL_TIMEOUT_SECONDS,
    termination_grace_period,
)

ID = "MLG132"
SEVERITY = "error"
HINT = (
    "let mlgitops render it: set spec.server.drainSeconds and gracefulTimeoutSeconds in "
    "model.yaml, not DRAIN_SECONDS or GRACEFUL_TIMEOUT in config"
)
KUBERNETES_DEFAULT_GRACE = 30


def container_env(data: Mapping[str, Any], context: OverlayContext) -> dict[str, str]:
    """Plain variables of a container: its ConfigMaps (envFrom, from this overlay), then its
    own ``env`` values, which win as they do in Kubernetes."""
    config_maps = {name_of(c): c for c in objects_of_kind(context.objects, "ConfigMap")}
    values: dict[str, str] = {}
    for source in data.get("envFrom") or []:
        name = str(((source or {}).get("configMapRef") or {}).get("name", ""))
        data_of = (config_maps.get(name) or {}).get("data") or {}
        values |= {str(k): str(v) for k, v in data_of.items()}
    for item in data.get("env") or []:
        if isinstance(item, Mapping) and "value" in item:
            values[str(item["name"])] = str(item["value"])
    return values


def _seconds(text: str | None, default: int) -> float:
    try:
        return float(text) if text not in (None, "") else default
    except ValueError:
        return default


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    pod = pod_spec(obj)
    if pod is None:
        return
    grace = pod.spec.get("terminationGracePeriodSeconds", KUBERNETES_DEFAULT_GRACE)
    for container in containers(pod, ("containers",)):
        if container.data.get("name") != SERVER_CONTAINER:
            continue
        env = container_env(container.data, context)
        drain = _seconds(env.get("DRAIN_SECONDS"), DEFAULT_DRAIN_SECONDS)
        graceful = _seconds(env.get("GRACEFUL_TIMEOUT"), DEFAULT_GRACEFUL_TIMEOUT_SECONDS)
        if grace < drain + graceful:
            yield violation(
                f"{pod.path}.terminationGracePeriodSeconds {grace} is shorter than the "
                f"server's shutdown (DRAIN_SECONDS {drain:g} + GRACEFUL_TIMEOUT {graceful:g}); "
                f"requests still running get SIGKILL (want at least "
                f"{termination_grace_period(int(drain), int(graceful))})",
                HINT,
            )
