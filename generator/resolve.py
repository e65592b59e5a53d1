"""Model x environment -> one fully merged, defaulted spec (precedence: environment defaults <
model spec < the model's per-environment override)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from generator.load.defaults import deep_merge, tunable_defaults
from generator.load.modelspec import ModelSource, SecretRef
from generator.load.platform import Environment, NodePool, Platform, Quota, SyncPolicy
from generator.load.release import Pin
from generator.load.storage import LOG_VOLUME_SIZE, TMP_VOLUME_SIZE, ephemeral_bound
from generator.load.yamlsource import Document, PathKey
from generator.rollout import RolloutSpec, rollout_spec


@dataclass(frozen=True)
class Resolved:
    """Everything the renderer needs for one model in one environment."""

    model: str
    owner: str
    description: str
    version: str
    source_file: str
    artifact_sha256: str
    environment: Environment
    image: str
    digest: str | None
    pinned_image: str | None
    cpu: str
    memory: str
    accelerator: str
    gpus: int
    min_replicas: int
    max_replicas: int
    target_cpu_utilization: int
    workers: int
    threads: int
    log_level: str
    fluentd: bool
    config: tuple[tuple[str, str], ...]
    secret_refs: tuple[SecretRef, ...]
    slo_latency_p99_ms: int = 100
    slo_error_ratio: float = 0.01
    slo_min_accuracy: float | None = None
    rollout: RolloutSpec = field(default_factory=RolloutSpec)
    drift_enabled: bool = False
    drift_psi_threshold: float = 0.2
    drift_window: str = "1h"
    drift_for: str = "15m"
    drift_features: tuple[str, ...] = ()
    """Profile feature names the drift rules watch; empty: every feature."""
    allow_cpu_fallback: bool = False
    drain_seconds: int = 5
    graceful_timeout_seconds: int = 30
    egress: tuple[Mapping[str, Any], ...] = ()

    @property
    def node_pool(self) -> NodePool:
        if self.accelerator == "gpu" and self.environment.gpu_pool is not None:
            return self.environment.gpu_pool
        return self.environment.cpu_pool

    @property
    def server_storage(self) -> str:
        """Ephemeral storage of the server container: its /tmp, and its log file where the
        Fluentd sidecar tails one (`generator.load.storage`)."""
        written = [TMP_VOLUME_SIZE, LOG_VOLUME_SIZE] if self.fluentd else [TMP_VOLUME_SIZE]
        return ephemeral_bound(*written)


def is_enabled(model: ModelSource, env: Environment) -> bool:
    return bool(model.overrides.get(env.name, {}).get("enabled", True))


def merged_tunables(model: ModelSource, env: Environment) -> dict[str, Any]:
    override = {k: v for k, v in model.overrides.get(env.name, {}).items() if k != "enabled"}
    return deep_merge(tunable_defaults(), env.defaults, model.tunables, override)


def origin(
    model: ModelSource, env: Environment, platform: Platform, field: PathKey
) -> tuple[Document, PathKey]:
    """Where the effective value of ``field`` was written, for error positions."""

    def has(data: Mapping[str, Any], path: PathKey) -> bool:
        node: Any = data
        for part in path:
            if not isinstance(node, Mapping) or part not in node:
                return False
            node = node[part]
        return True

    if has(model.overrides.get(env.name, {}), field):
        return model.document, ("spec", "environments", env.name, *field)
    if has(model.tunables, field):
        return model.document, ("spec", *field)
    if has(env.defaults, field):
        return platform.document, ("environments", env.index, "defaults", *field)
    return model.document, ("spec",)


def resolve(model: ModelSource, env: Environment, platform: Platform, pin: Pin | None) -> Resolved:
    spec = merged_tunables(model, env)
    scaling = spec["scaling"]
    logging = spec["logging"]
    drift = spec["monitoring"]["drift"]
    return Resolved(
        model=model.name,
        owner=model.owner,
        description=model.description,
        version=model.version,
        source_file=model.file,
        artifact_sha256=model.artifact_sha256,
        environment=env,
        image=f"{platform.registry}/{model.name}",
        digest=pin.digest_for(spec["accelerator"]) if pin else None,
        pinned_image=pin.image if pin else None,
        cpu=spec["resources"]["cpu"],
        memory=spec["resources"]["memory"],
        accelerator=spec["accelerator"],
        gpus=spec["gpus"] if spec["accelerator"] == "gpu" else 0,
        min_replicas=scaling["minReplicas"],
        max_replicas=scaling["maxReplicas"],
        target_cpu_utilization=scaling["targetCPUUtilization"],
        workers=spec["server"]["workers"],
        threads=spec["server"]["threads"],
        log_level=logging["level"],
        fluentd=bool(logging["fluentd"]) and env.fluentd is not None,
        config=tuple(sorted(spec.get("config", {}).items())),
        secret_refs=model.secret_refs,
        slo_latency_p99_ms=spec["slo"]["latencyP99Ms"],
        slo_error_ratio=spec["slo"]["errorRatio"],
        slo_min_accuracy=spec["slo"].get("minAccuracy"),
        rollout=rollout_spec(spec),
        drift_enabled=drift["enabled"],
        drift_psi_threshold=drift["psiThreshold"],
        drift_window=drift["window"],
        drift_for=drift["for"],
        drift_features=tuple(drift.get("features", ())),
        allow_cpu_fallback=bool(spec["server"]["allowCpuFallback"]),
        drain_seconds=spec["server"]["drainSeconds"],
        graceful_timeout_seconds=spec["server"]["gracefulTimeoutSeconds"],
        egress=model.egress,
    )


_BASE_POOL = NodePool(node_selector={}, tolerations=(), resource_name="nvidia.com/gpu")
BASE_ENVIRONMENT = Environment(
    name="",
    index=-1,
    namespace="",
    cluster="",
    require_digest=False,
    sync=SyncPolicy(automated=False, prune=False, self_heal=False),
    cpu_pool=_BASE_POOL,
    gpu_pool=None,
    quota=Quota(cpu="0", memory="0", gpus=0, pods=0),
    fluentd=None,
    defaults={},
)


def resolve_base(model: ModelSource, platform: Platform) -> Resolved:
    """The model as its base renders it: its own spec on schema defaults, on the CPU pool.

    Environments add their defaults, overrides, node pools, GPUs and sidecars as overlays.
    """
    spec = resolve(model, BASE_ENVIRONMENT, platform, None)
    cpu_only = {**merged_tunables(model, BASE_ENVIRONMENT), "accelerator": "cpu"}
    return replace(spec, accelerator="cpu", gpus=0, fluentd=False, rollout=rollout_spec(cpu_only))
