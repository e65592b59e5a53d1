"""Which pods a change restarts: a workload rolls its pods when its pod template changes, or
when configuration it reads changes.

Kubernetes starts a rolling update exactly when a Deployment's ``spec.template`` changes (a
new ReplicaSet, named by the template's hash). The ConfigMaps a pod reads (the model's and the
Fluentd sidecar's) are generated with a content hash in their names, so a changed
configuration is a changed reference in the template; the diff compares them under their base
names (`sides._normalise_generated_names`), so this module names the ConfigMap as the cause.
Pods of an added overlay start and those of a removed one stop: neither is a restart. Where an
Argo Rollout scales the Deployment (``workloadRef``), the Rollout rolls the pods and is named.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.diff.compare import field_changes
from generator.policy.workloads import containers, pod_spec, scaled_as

Object = Mapping[str, Any]
WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "Rollout"})
SHOWN_CAUSES = 3


@dataclass(frozen=True)
class Restart:
    environment: str
    model: str
    kind: str
    name: str
    causes: tuple[str, ...]
    """Changed ConfigMaps the pods read, then changed field paths of the pod template."""

    @property
    def key(self) -> str:
        return f"{self.environment}/{self.model}"


def _identity(obj: Object) -> tuple[str, str]:
    return str(obj.get("kind", "")), str((obj.get("metadata") or {}).get("name", ""))


def read_config(obj: Object) -> list[tuple[str, str]]:
    """(kind, name) of every ConfigMap and Secret the workload's pods read."""
    pod = pod_spec(obj)
    if pod is None:
        return []
    found = []
    for volume in pod.spec.get("volumes") or []:
        for kind, key in (("ConfigMap", "configMap"), ("Secret", "secret")):
            source = volume.get(key) or {}
            name = source.get("name") or source.get("secretName")
            if name:
                found.append((kind, str(name)))
    for container in containers(pod):
        for source in container.data.get("envFrom") or []:
            for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if (source.get(key) or {}).get("name"):
                    found.append((kind, str(source[key]["name"])))
        for item in container.data.get("env") or []:
            value_from = item.get("valueFrom") or {}
            for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
                if (value_from.get(key) or {}).get("name"):
                    found.append((kind, str(value_from[key]["name"])))
    return sorted(set(found))


def overlay_restarts(
    environment: str, model: str, old: Sequence[Object], new: Sequence[Object]
) -> Iterator[Restart]:
    before = {_identity(obj): obj for obj in old}
    after = {_identity(obj): obj for obj in new}
    for identity, obj in sorted(after.items()):
        previous = before.get(identity)
        if identity[0] not in WORKLOAD_KINDS or previous is None:
            continue
        config = [
            f"{kind}/{name}"
            for kind, name in read_config(obj)
            if (kind, name) in before
            and (kind, name) in after
            and before[kind, name] != after[kind, name]
        ]
        template = [
            change.path
            for change in field_changes(
                previous.get("spec", {}).get("template"),
                obj.get("spec", {}).get("template"),
                "spec.template",
            )
        ]
        if config or template:
            # An Argo Rollout that scales the Deployment (workloadRef) rolls its pods, by its
            # canary steps.
            kind, name = scaled_as(obj, tuple(new))
            yield Restart(environment, model, kind, name, tuple(config + template))


def restarts(
    old: Mapping[str, Sequence[Object]],
    new: Mapping[str, Sequence[Object]],
    order: Sequence[str] = (),
) -> tuple[Restart, ...]:
    """``old``/``new``: overlay key -> built objects (as compared); restarts in promotion
    ``order`` of the environments, then by model, as the overlays are listed."""

    def position(key: str) -> tuple[int, str]:
        env = key.split("/")[0]
        return (order.index(env) if env in order else len(order), key)

    found: list[Restart] = []
    for key in sorted(set(old) & set(new), key=position):
        environment, model = key.split("/")
        found += overlay_restarts(environment, model, old[key], new[key])
    return tuple(found)


def describe(restart: Restart) -> str:
    """``Deployment iris-classifier rolls its pods (<causes>)`` with at most three causes."""
    shown = ", ".join(restart.causes[:SHOWN_CAUSES])
    more = len(restart.causes) - SHOWN_CAUSES
    if more > 0:
        shown += f" and {more} more"
    return f"{restart.kind} {restart.name} rolls its pods ({shown} changed)"


def restart_lines(restarts_found: Sequence[Restart]) -> Iterator[str]:
    for restart in restarts_found:
        yield f"restart {restart.key}: {describe(restart)}"
