"""From a built overlay to the pod that Podman plays: the Deployment's pod template exactly as
built, with only what cannot exist outside a cluster substituted, each substitution said.

Pure: objects in, objects and sentences out. Facts about Podman 4.3 (Debian bookworm's) that
shape the substitutions, each checked here with ``podman kube play``:

- init containers run to completion before the containers start, and ``restartPolicy`` on an
  init container is ignored (podman issues 20372 and 25157): a native sidecar (an init
  container with ``restartPolicy: Always``) would hold the pod in start-up for ever. It becomes
  an ordinary container started with the others, and ``down`` stops the containers in the
  kubelet's order instead: the main containers first, then the sidecars in reverse order.
- ``fieldRef: metadata.namespace`` is refused ("not valid or not supported"); the namespace is
  known, so it becomes a literal value.
- ``secretKeyRef`` needs a Podman secret holding a whole Kubernetes Secret; the values are not
  ours to know, so each becomes a literal placeholder.
- annotation values over 63 characters are refused (Podman checks them as label values;
  Kubernetes allows 256 KiB for all annotations together): such annotations are left out.
- an ``emptyDir`` becomes a named volume called by the volume's name alone, so every pod
  that names a volume ``tmp`` shares one directory, which outlives the pod; ``sizeLimit`` is
  ignored; and the image's directory at the mount path is copied into it (ownership and mode
  included), which a kubelet never does. Each emptyDir therefore becomes a fresh volume of the
  pod's own (`EmptyDir`), a tmpfs of ``sizeLimit`` with the kubelet's mode 0777, owned by the
  pod's user and fsGroup before the pod mounts it (`podman.prime_volume`).
- a ConfigMap mounted as a volume is written into a named volume called by the ConfigMap's
  name, shared by every pod that mounts a ConfigMap of that name and left behind: two
  environments' pods (one ``mlgitops-fluentd`` each) would read each other's configuration.
  Each ConfigMap is renamed ``<pod>-<name>``, everywhere the pod refers to it.
- an ``httpGet`` liveness or startup probe becomes a healthcheck that runs ``curl`` (absent
  from our images) against port 0 when the probe names its port, on a systemd timer (absent
  from containers and CI machines): it never runs faithfully. The probes are left out of the
  played pod; `up` runs the startupProbe and readinessProbe itself while the pod starts.
- ``terminationGracePeriodSeconds`` does not become the containers' stop timeout; ``down``
  passes it to ``podman stop`` itself.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from generator.errors import MlgitopsError
from generator.quantities import memory_bytes

Object = dict[str, Any]
SECRET_PLACEHOLDER = "mlgitops-up-placeholder"
CPU_PROVIDERS = "CPUExecutionProvider"
PODMAN_ANNOTATION_MAX = 63
_CORE_RESOURCES = ("cpu", "memory", "ephemeral-storage", "hugepages-")
_DROPPED_POD_FIELDS = (
    ("nodeSelector", "node selection"),
    ("affinity", "affinity"),
    ("tolerations", "tolerations"),
    ("topologySpreadConstraints", "topology spread"),
    ("priorityClassName", "priority class"),
)


class PodError(MlgitopsError):
    """The built overlay holds no pod that can be played (no Deployment, no server)."""


@dataclass(frozen=True)
class Aggregator:
    """Where the pod's Fluentd forwards to instead of the environment's aggregator."""

    host: str
    port: int


@dataclass(frozen=True)
class EmptyDir:
    """A pod-private volume standing in for one emptyDir."""

    volume: str
    """The Podman volume: ``<pod>-<volume name>``."""
    size_bytes: int | None
    """``sizeLimit`` in bytes; None: unbounded."""
    user: int
    group: int


@dataclass
class PlayPlan:
    """What `up` plays and how it treats the result."""

    pod_name: str
    documents: list[Object]
    """ConfigMaps, then the Pod: the input of ``podman kube play``."""
    ports: dict[str, int]
    """containerPort name (or number) of the server -> published port on 127.0.0.1."""
    http_port: int
    """The published port of the server's HTTP port."""
    readiness: Object
    """The server's readinessProbe as built."""
    startup: Object
    grace_seconds: int
    main_containers: list[str]
    sidecars: list[str]
    """Native sidecars, in start order (stopped after the main containers, in reverse)."""
    substitutions: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    empty_dirs: list[EmptyDir] = field(default_factory=list)

    def config_map_volumes(self) -> list[str]:
        """The named volumes Podman writes the pod's configMap volumes into (left behind by
        ``podman pod rm``)."""
        pod = next(d for d in self.documents if d.get("kind") == "Pod")
        return [v["configMap"]["name"] for v in pod["spec"].get("volumes", []) if "configMap" in v]

    def stop_stages(self) -> list[list[str]]:
        """The kubelet's termination order: every main container at once, then each native
        sidecar in reverse start order (Kubernetes docs, "Sidecar containers")."""
        return [self.main_containers, *([name] for name in reversed(self.sidecars))]


def find(objects: Sequence[Object], kind: str) -> list[Object]:
    return [obj for obj in objects if obj.get("kind") == kind]


def is_native_sidecar(container: Object) -> bool:
    return container.get("restartPolicy") == "Always"


def plan_pod(
    objects: Sequence[Object],
    *,
    pod_name: str,
    namespace: str,
    images: Mapping[str, str],
    ports: Mapping[str, int],
    server: str = "server",
    gpu_available: bool = False,
    aggregator: Aggregator | None = None,
) -> PlayPlan:
    """Turn the built overlay ``objects`` into a PlayPlan.

    ``images``: container name -> local image reference; ``ports``: the server's container
    port name (or number as text) -> host port on 127.0.0.1. Raises PodError when the overlay
    has no Deployment or the Deployment no ``server`` container.
    """
    deployments = find(objects, "Deployment")
    if len(deployments) != 1:
        raise PodError(f"the built overlay holds {len(deployments)} Deployments, not one")
    template = copy.deepcopy(deployments[0]["spec"]["template"])
    spec: Object = template["spec"]
    said: list[str] = []
    warnings: list[str] = []
    for key, what in _DROPPED_POD_FIELDS:
        if spec.pop(key, None):
            said.append(f"{what} dropped (one local machine, no nodes to choose)")
    sidecars = [c for c in spec.get("initContainers", []) if is_native_sidecar(c)]
    if sidecars:
        spec["initContainers"] = [c for c in spec["initContainers"] if not is_native_sidecar(c)]
        if not spec["initContainers"]:
            del spec["initContainers"]
        for sidecar in sidecars:
            sidecar.pop("restartPolicy")
        spec["containers"] = [*sidecars, *spec["containers"]]
        names = ", ".join(c["name"] for c in sidecars)
        said.append(
            f"native sidecar {names} runs as an ordinary container (Podman runs init "
            "containers to completion first); down stops it after the server, as a kubelet does"
        )
    containers: list[Object] = spec["containers"]
    main = next((c for c in containers if c.get("name") == server), None)
    if main is None:
        raise PodError(f"the Deployment has no container named {server!r}")
    probes = {key: main[key] for key in _PROBES if key in main}
    for container in [*spec.get("initContainers", []), *containers]:
        said += _local_image(container, images)
        said += _env_substitutions(container, namespace)
        if _drop_accelerators(container, gpu_available):
            warnings.append(
                f"{container['name']}: up passes no GPU to Podman; the GPU overlay runs on the "
                f"CPU (ORT_PROVIDERS={CPU_PROVIDERS}, the CPU image)"
            )
    empty_dirs = _pod_private_volumes(spec, pod_name)
    if empty_dirs:
        said.append(
            "emptyDir volumes -> fresh volumes of this pod, each a tmpfs of its sizeLimit "
            f"({', '.join(d.volume for d in empty_dirs)})"
        )
    probed = [c["name"] for c in containers if _drop_probes(c)]
    if probed:
        said.append(
            f"probes of {', '.join(probed)} run by up while starting, not by Podman "
            "(its healthchecks need curl and systemd)"
        )
    published = _publish(main, ports)
    said += [f"{name} port published on 127.0.0.1:{port}" for name, port in published.items()]
    config_maps = [copy.deepcopy(c) for c in find(objects, "ConfigMap") if _used(c, spec)]
    if aggregator is not None:
        for config_map in config_maps:
            said += _redirect_aggregator(config_map, aggregator)
    if config_maps:
        renamed = _rename_config_maps(config_maps, spec, pod_name)
        said.append(f"ConfigMaps renamed for this pod alone ({', '.join(renamed)})")
    metadata = template.setdefault("metadata", {})
    annotations = metadata.get("annotations", {})
    for key in [k for k, v in annotations.items() if len(str(v)) > PODMAN_ANNOTATION_MAX]:
        del annotations[key]
        said.append(f"annotation {key} left out (Podman refuses values over 63 characters)")
    metadata["name"] = pod_name
    metadata["namespace"] = namespace
    http = _port_number(main, "http", published)
    return PlayPlan(
        pod_name=pod_name,
        documents=[*config_maps, {"apiVersion": "v1", "kind": "Pod", **template}],
        ports=published,
        http_port=http,
        readiness=dict(probes.get("readinessProbe", {})),
        startup=dict(probes.get("startupProbe", {})),
        grace_seconds=int(spec.get("terminationGracePeriodSeconds", 30)),
        main_containers=[c["name"] for c in containers if c not in sidecars],
        sidecars=[c["name"] for c in sidecars],
        substitutions=said,
        warnings=warnings,
        empty_dirs=empty_dirs,
    )


def _pod_private_volumes(spec: Object, pod_name: str) -> list[EmptyDir]:
    security = spec.get("securityContext", {})
    user = int(security.get("runAsUser", 0))
    group = int(security.get("fsGroup", security.get("runAsGroup", user)))
    found = []
    for volume in spec.get("volumes", []):
        if "emptyDir" not in volume:
            continue
        limit = volume.pop("emptyDir").get("sizeLimit")
        name = f"{pod_name}-{volume['name']}"
        volume["persistentVolumeClaim"] = {"claimName": name}
        size = memory_bytes(str(limit)) if limit is not None else None
        found.append(EmptyDir(name, size, user, group))
    return found


_PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def _drop_probes(container: Object) -> bool:
    found = [key for key in _PROBES if key in container]
    for key in found:
        del container[key]
    return bool(found)


def _local_image(container: Object, images: Mapping[str, str]) -> list[str]:
    local = images.get(container["name"])
    if local is None or local == container.get("image"):
        return []
    built = container.get("image", "")
    container["image"] = local
    container["imagePullPolicy"] = "Never"
    return [f"{container['name']}: image {built} -> {local} (local storage)"]


def _env_substitutions(container: Object, namespace: str) -> list[str]:
    said = []
    for variable in container.get("env", []):
        source = variable.get("valueFrom", {})
        if source.get("fieldRef", {}).get("fieldPath") == "metadata.namespace":
            variable.pop("valueFrom")
            variable["value"] = namespace
            said.append(f"{container['name']}: {variable['name']} = {namespace} (the namespace)")
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            variable.pop("valueFrom")
            variable["value"] = SECRET_PLACEHOLDER
            said.append(
                f"{container['name']}: {variable['name']} = {SECRET_PLACEHOLDER!r} "
                f"(Secret {ref.get('name')} key {ref.get('key')} exists only in the cluster)"
            )
    return said


def _drop_accelerators(container: Object, gpu_available: bool) -> bool:
    """Without a GPU, remove extended resources and ask ONNX Runtime for the CPU provider."""
    if gpu_available:
        return False
    dropped = False
    for section in ("limits", "requests"):
        resources = container.get("resources", {}).get(section, {})
        for name in [n for n in resources if not n.startswith(_CORE_RESOURCES)]:
            del resources[name]
            dropped = True
    for variable in container.get("env", []):
        if variable.get("name") == "ORT_PROVIDERS" and variable.get("value") != CPU_PROVIDERS:
            variable["value"] = CPU_PROVIDERS
            dropped = True
    return dropped


def _publish(container: Object, ports: Mapping[str, int]) -> dict[str, int]:
    published = {}
    for port in container.get("ports", []):
        key = str(port.get("name") or port["containerPort"])
        if key in ports:
            port["hostPort"] = ports[key]
            port["hostIP"] = "127.0.0.1"
            published[key] = ports[key]
    return published


def _port_number(container: Object, name: str, published: Mapping[str, int]) -> int:
    if name in published:
        return published[name]
    if published:
        return next(iter(published.values()))
    raise PodError(f"the {container['name']} container publishes no port")


def _used(config_map: Object, spec: Object) -> bool:
    name = config_map.get("metadata", {}).get("name")
    for volume in spec.get("volumes", []):
        if volume.get("configMap", {}).get("name") == name:
            return True
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        for source in container.get("envFrom", []):
            if source.get("configMapRef", {}).get("name") == name:
                return True
    return False


def _rename_config_maps(config_maps: list[Object], spec: Object, pod_name: str) -> list[str]:
    names = {c["metadata"]["name"]: f"{pod_name}-{c['metadata']['name']}" for c in config_maps}
    for config_map in config_maps:
        config_map["metadata"]["name"] = names[config_map["metadata"]["name"]]
    references = [v.get("configMap", {}) for v in spec.get("volumes", [])]
    for container in [*spec.get("initContainers", []), *spec.get("containers", [])]:
        references += [s.get("configMapRef", {}) for s in container.get("envFrom", [])]
        references += [
            v.get("valueFrom", {}).get("configMapKeyRef", {}) for v in container.get("env", [])
        ]
    for reference in references:
        if reference.get("name") in names:
            reference["name"] = names[reference["name"]]
    return sorted(names.values())


_FORWARD_SERVER = re.compile(r"(<server>\s*\n\s*host )(\S+)(\s*\n\s*port )(\d+)")


def _redirect_aggregator(config_map: Object, aggregator: Aggregator) -> list[str]:
    """Point every ``forward`` output's server at the local aggregator."""
    said = []
    data = config_map.get("data", {})
    for key, text in data.items():
        found = _FORWARD_SERVER.search(text)
        if found is None:
            continue
        data[key] = _FORWARD_SERVER.sub(
            lambda m: f"{m[1]}{aggregator.host}{m[3]}{aggregator.port}", text
        )
        said.append(
            f"aggregator {found[2]}:{found[4]} -> the local Fluentd aggregator at "
            f"{aggregator.host}:{aggregator.port} (cluster DNS name)"
        )
    return said
