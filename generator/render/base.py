"""The environment-independent Kustomize base of one model."""

from __future__ import annotations

from typing import Any

from generator.check.sizing import intra_op_threads
from generator.load.storage import TMP_VOLUME_SIZE, empty_dir
from generator.render.delivery import rolling_update
from generator.render.labels import (
    GRPC_PORT,
    RUN_AS_USER,
    SERVER_CONTAINER,
    SERVER_PORT,
    config_map_name,
    model_labels,
    restricted_container_security,
    selector,
)
from generator.render.lifecycle import termination_grace_period
from generator.render.network import model_policy_spec, serving_port_names
from generator.resolve import Resolved

Object = dict[str, Any]


MODEL_PROFILE_PATH = "/models/profile.json"
"""Where serving/Dockerfile.model puts the model's profile.json: MODEL_PROFILE names it where
drift monitoring is on (the server then counts; without the variable it does not)."""


def server_config(spec: Resolved) -> dict[str, str]:
    """Environment of the server container (the serving runtime's public contract), through
    its ConfigMap; PORT and GRPC_PORT are set on the container itself (`deployment`).

    ORT_INTRA_OP_THREADS comes from the CPU request (`generator.check.sizing.intra_op_threads`); a
    GPU deployment says whether it may stay ready on the CPU (ORT_ALLOW_FALLBACK)."""
    config = {
        "MODEL_NAME": spec.model,
        "MODEL_VERSION": spec.version,
        "WORKERS": str(spec.workers),
        "THREADS": str(spec.threads),
        "LOG_LEVEL": spec.log_level,
        "ORT_PROVIDERS": "CPUExecutionProvider",
        "ORT_INTRA_OP_THREADS": str(intra_op_threads(spec.cpu, spec.workers)),
        "DRAIN_SECONDS": str(spec.drain_seconds),
        "GRACEFUL_TIMEOUT": str(spec.graceful_timeout_seconds),
        **({"MODEL_PROFILE": MODEL_PROFILE_PATH} if spec.drift_enabled else {}),
    }
    if spec.accelerator == "gpu":
        config["ORT_ALLOW_FALLBACK"] = "true" if spec.allow_cpu_fallback else "false"
    return config | dict(spec.config)


def _metadata(spec: Resolved, name: str) -> Object:
    return {"name": name, "labels": model_labels(spec.model, spec.owner, spec.version)}


def service_account(spec: Resolved) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _metadata(spec, spec.model),
        "automountServiceAccountToken": False,
    }


def _probe(path: str, period: int, failures: int) -> Object:
    return {
        "httpGet": {"path": path, "port": "http"},
        "periodSeconds": period,
        "timeoutSeconds": 2,
        "failureThreshold": failures,
    }


def server_resources(spec: Resolved) -> Object:
    storage = spec.server_storage
    limits: Object = {"memory": spec.memory, "ephemeral-storage": storage}
    if spec.gpus:
        limits[spec.environment.gpu_pool.resource_name if spec.environment.gpu_pool else ""] = str(
            spec.gpus
        )
    requests = {"cpu": spec.cpu, "memory": spec.memory, "ephemeral-storage": storage}
    return {"requests": requests, "limits": limits}


def deployment(spec: Resolved) -> Object:
    labels = model_labels(spec.model, spec.owner, spec.version)
    container: Object = {
        "name": SERVER_CONTAINER,
        "image": f"{spec.image}:{spec.version}",
        "imagePullPolicy": "IfNotPresent",
        "ports": [
            {"name": "http", "containerPort": SERVER_PORT, "protocol": "TCP"},
            {"name": "grpc", "containerPort": GRPC_PORT, "protocol": "TCP"},
        ],
        "envFrom": [{"configMapRef": {"name": config_map_name(spec.model)}}],
    }
    # The ports are properties of the pod spec (containerPort above), so they are set beside
    # them rather than in the ConfigMap, where scanners read a key named PORT as a credential.
    container["env"] = [
        {"name": "PORT", "value": str(SERVER_PORT)},
        {"name": "GRPC_PORT", "value": str(GRPC_PORT)},
    ] + [
        {"name": ref.env, "valueFrom": {"secretKeyRef": {"name": ref.secret, "key": ref.key}}}
        for ref in spec.secret_refs
    ]
    container |= {
        "resources": server_resources(spec),
        "startupProbe": _probe("/v2/health/live", 2, 60),
        "readinessProbe": _probe("/v2/health/ready", 5, 3),
        "livenessProbe": _probe("/v2/health/live", 10, 3),
        "securityContext": restricted_container_security(),
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(spec, spec.model),
        "spec": {
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": selector(spec.model)},
            "strategy": rolling_update(spec),
            "template": {
                "metadata": {
                    "labels": labels,
                    "annotations": {"mlgitops.io/artifact-sha256": spec.artifact_sha256},
                },
                "spec": {
                    "serviceAccountName": spec.model,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": termination_grace_period(
                        spec.drain_seconds, spec.graceful_timeout_seconds
                    ),
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS_USER,
                        "runAsGroup": RUN_AS_USER,
                        "fsGroup": RUN_AS_USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [container],
                    "volumes": [empty_dir("tmp", TMP_VOLUME_SIZE)],
                },
            },
        },
    }


def service(spec: Resolved) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(spec, spec.model),
        "spec": {
            "type": "ClusterIP",
            "selector": selector(spec.model),
            "ports": [
                {"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"},
                {"name": "grpc", "port": GRPC_PORT, "targetPort": "grpc", "protocol": "TCP"},
            ],
        },
    }


def scaling_fields(spec: Resolved) -> Object:
    """The HPA fields an environment may change; overlays patch exactly these."""
    return {
        "minReplicas": spec.min_replicas,
        "maxReplicas": spec.max_replicas,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {
                        "type": "Utilization",
                        "averageUtilization": spec.target_cpu_utilization,
                    },
                },
            }
        ],
    }


def horizontal_pod_autoscaler(spec: Resolved) -> Object:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.model}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(spec, spec.model),
        "spec": {"scaleTargetRef": target, **scaling_fields(spec)},
    }


def pod_disruption_budget(spec: Resolved) -> Object:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(spec, spec.model),
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector(spec.model)}},
    }


def network_policy(spec: Resolved) -> Object:
    """Callers and scrapers of the environment (the base's: its own namespace only) on the
    server's named ports; egress to what the model declares (`generator.render.network`)."""
    ports = serving_port_names(deployment(spec))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(spec, spec.model),
        "spec": model_policy_spec(spec.model, spec.environment, ports, spec.egress),
    }


BASE_RESOURCES = (
    ("serviceaccount.yaml", service_account),
    ("deployment.yaml", deployment),
    ("service.yaml", service),
    ("hpa.yaml", horizontal_pod_autoscaler),
    ("pdb.yaml", pod_disruption_budget),
    ("networkpolicy.yaml", network_policy),
)


def config_literals(config: dict[str, str]) -> list[str]:
    return [f"{key}={value}" for key, value in sorted(config.items())]


def base_kustomization(spec: Resolved) -> Object:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [name for name, _ in BASE_RESOURCES],
        "configMapGenerator": [
            {
                "name": config_map_name(spec.model),
                "literals": config_literals(server_config(spec)),
                "options": {"labels": model_labels(spec.model, spec.owner, spec.version)},
            }
        ],
    }


def render_base(spec: Resolved) -> dict[str, Object]:
    """File name -> object for ``base/<model>/``; ``spec`` is the model without environment."""
    files = {name: build(spec) for name, build in BASE_RESOURCES}
    files["kustomization.yaml"] = base_kustomization(spec)
    return files
