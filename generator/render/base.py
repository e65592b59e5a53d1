"""The environment-independent Kustomize base of one model."""

from __future__ import annotations

from typing import Any

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
from generator.resolve import Resolved

Object = dict[str, Any]


MODEL_PROFILE_PATH = "/models/profile.json"
"""Where serving/Dockerfile.model puts the model's profile.json: MODEL_PROFILE names it where
drift monitoring is on (the server then counts; without the variable it does not)."""


def server_config(spec: Resolved) -> dict[str, str]:
    """Environment of the server container (the serving runtime's public contract)."""
    return {
        "MODEL_NAME": spec.model,
        "MODEL_VERSION": spec.version,
        "PORT": str(SERVER_PORT),
        "GRPC_PORT": str(GRPC_PORT),
        "WORKERS": str(spec.workers),
        "THREADS": str(spec.threads),
        "LOG_LEVEL": spec.log_level,
        "ORT_PROVIDERS": "CPUExecutionProvider",
        **({"MODEL_PROFILE": MODEL_PROFILE_PATH} if spec.drift_enabled else {}),
        **dict(spec.config),
    }


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
    limits: Object = {"memory": spec.memory}
    if spec.gpus:
        limits[spec.environment.gpu_pool.resource_name if spec.environment.gpu_pool else ""] = str(
            spec.gpus
        )
    return {"requests": {"cpu": spec.cpu, "memory": spec.memory}, "limits": limits}


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
    if spec.secret_refs:
        container["env"] = [
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
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": RUN_AS_USER,
                        "runAsGroup": RUN_AS_USER,
                        "fsGroup": RUN_AS_USER,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "kubernetes.io/hostname",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": selector(spec.model)},
                        }
                    ],
                    "containers": [container],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "256Mi"}}],
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
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": _metadata(spec, spec.model),
        "spec": {
            "podSelector": {"matchLabels": selector(spec.model)},
            "policyTypes": ["Ingress"],
            "ingress": [
                {
                    "ports": [
                        {"port": "http", "protocol": "TCP"},
                        {"port": "grpc", "protocol": "TCP"},
                    ]
                }
            ],
        },
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
