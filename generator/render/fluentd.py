"""The Fluentd logging sidecar: its configuration and the pod patch that adds it."""

from __future__ import annotations

from typing import Any

from generator.load.platform import SIDECAR_REQUESTS, SIDECAR_STORAGE, Environment
from generator.load.storage import BUFFER_VOLUME_SIZE, LOG_VOLUME_SIZE, empty_dir
from generator.quantities import memory_bytes
from generator.render.labels import (
    FLUENTD_CONFIGMAP,
    LOG_DIR,
    MANAGED_BY,
    NAME_LABEL,
    SERVER_CONTAINER,
    restricted_container_security,
)

Object = dict[str, Any]
LOG_FILE = f"{LOG_DIR}/server.log"
BUFFER_DIR = "/fluentd/buffer"
LOG_VOLUME_MIB = memory_bytes(LOG_VOLUME_SIZE) // 2**20


def log_max_bytes(volume_mib: int) -> int:
    """LOG_MAX_BYTES for a log volume of ``volume_mib``: the server renames LOG_FILE to
    LOG_FILE.1 at this size (serving.logs), so the two files together fill at most half the
    volume; the rest absorbs lines written between a rotation and the other workers' reopening.
    """
    return volume_mib * 1024 * 1024 // 4


NATIVE_SIDECARS_SINCE = (1, 29)
"""Sidecar containers (init containers with ``restartPolicy: Always``): alpha behind a feature
gate in 1.28, beta and on by default in 1.29, stable in 1.33 (Kubernetes docs, "Sidecar
Containers"; KEP-753). Older API servers reject the field."""


def native_sidecars(kubernetes_version: str) -> bool:
    """Whether ``kubernetesVersion`` ("1.33") runs native sidecars by default."""
    major, minor = (int(part) for part in kubernetes_version.split(".")[:2])
    return (major, minor) >= NATIVE_SIDECARS_SINCE


def fluent_conf(env: Environment) -> str:
    """Tail the server's JSON log, stamp model/environment/pod on each record, forward it.

    The file buffer keeps records across aggregator outages and sidecar restarts.
    """
    assert env.fluentd is not None
    return f"""<system>
  log_level info
</system>

<source>
  @type tail
  @id server_log
  path {LOG_FILE}
  pos_file {BUFFER_DIR}/server.log.pos
  tag model.server
  read_from_head true
  # The sidecar starts before the server creates the file: look for it every 5 s, not 60.
  refresh_interval 5s
  <parse>
    @type json
    time_key time
    keep_time_key true
  </parse>
</source>

<filter model.**>
  @type record_transformer
  <record>
    model "#{{ENV['MODEL_NAME']}}"
    environment "#{{ENV['ENVIRONMENT']}}"
    namespace "#{{ENV['POD_NAMESPACE']}}"
    pod "#{{ENV['POD_NAME']}}"
  </record>
</filter>

<match model.**>
  @type forward
  @id aggregator
  # Fluentd resolves the servers when it starts and exits if that fails: a DNS name that does
  # not resolve yet (aggregator not deployed, DNS slow at pod start) would crash-loop the pod.
  ignore_network_errors_at_startup true
  <server>
    host {env.fluentd.aggregator_host}
    port {env.fluentd.aggregator_port}
  </server>
  <buffer>
    @type file
    path {BUFFER_DIR}/forward
    flush_interval 5s
    flush_at_shutdown true
    retry_forever true
    retry_max_interval 30s
    total_limit_size 200m
  </buffer>
</match>
"""


FLUENT_CONF = "fluent.conf"


def fluentd_config_generator() -> Object:
    """The component's half of the sidecar's ConfigMap: fluent.conf, merged into the ConfigMap
    each overlay creates (`fluentd_config_owner`). Generated, so kustomize names it by a hash of
    its content and rewrites the pod's reference: a changed aggregator rolls the pods, in the
    same sync that changes the file."""
    return {"name": FLUENTD_CONFIGMAP, "behavior": "merge", "files": [FLUENT_CONF]}


def fluentd_config_owner(model: str) -> Object:
    """The overlay's half: it creates the ConfigMap with the model's name as one key, so each
    model's ConfigMap has its own content hash and name, and each Argo CD Application or Flux
    Kustomization owns (and prunes) only its own. Kustomize runs an overlay's generators before
    its components' (kusttarget.accumulateTarget), hence the create here and the merge there."""
    return {
        "name": FLUENTD_CONFIGMAP,
        "literals": [f"model={model}"],
        "options": {"labels": {**MANAGED_BY}},
    }


def _field(path: str) -> Object:
    return {"fieldRef": {"fieldPath": path}}


SIDECAR_LIMITS = {"memory": "192Mi", "ephemeral-storage": SIDECAR_STORAGE}


def fluentd_patch(env: Environment, native: bool = False) -> Object:
    """Strategic-merge patch adding the sidecar to whichever Deployment the overlay holds.

    ``native``: an init container with ``restartPolicy: Always``, which the kubelet starts
    before the server and stops after it, so lines written while the server drains are still
    shipped; otherwise an ordinary container, which receives SIGTERM with the server. Its
    writable paths are exactly the buffer and a /tmp for serverengine's socket (a read-only
    root fails with EROFS without it).
    """
    assert env.fluentd is not None
    sidecar: Object = {
        "name": "fluentd",
        "image": env.fluentd.image,
        "imagePullPolicy": "IfNotPresent",
        "args": ["-c", "/fluentd/etc/fluent.conf", "--no-supervisor"],
        "env": [
            {"name": "MODEL_NAME", "valueFrom": _field(f"metadata.labels['{NAME_LABEL}']")},
            {"name": "ENVIRONMENT", "value": env.name},
            {"name": "POD_NAME", "valueFrom": _field("metadata.name")},
            {"name": "POD_NAMESPACE", "valueFrom": _field("metadata.namespace")},
        ],
        "resources": {"requests": dict(SIDECAR_REQUESTS), "limits": dict(SIDECAR_LIMITS)},
        "securityContext": restricted_container_security(),
        "volumeMounts": [
            {"name": "model-logs", "mountPath": LOG_DIR, "readOnly": True},
            {"name": "fluentd-config", "mountPath": "/fluentd/etc", "readOnly": True},
            {"name": "fluentd-buffer", "mountPath": BUFFER_DIR},
            {"name": "fluentd-tmp", "mountPath": "/tmp"},
        ],
    }
    if native:
        sidecar["restartPolicy"] = "Always"
    server: Object = {
        "name": SERVER_CONTAINER,
        "env": [
            {"name": "LOG_FILE", "value": LOG_FILE},
            {"name": "LOG_MAX_BYTES", "value": str(log_max_bytes(LOG_VOLUME_MIB))},
        ],
        "volumeMounts": [{"name": "model-logs", "mountPath": LOG_DIR}],
    }
    pod: Object = {"containers": [server]}
    if native:
        pod["initContainers"] = [sidecar]
    else:
        pod["containers"].append(sidecar)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "model"},
        "spec": {
            "template": {
                "spec": {
                    **pod,
                    "volumes": [
                        empty_dir("model-logs", LOG_VOLUME_SIZE),
                        empty_dir("fluentd-buffer", BUFFER_VOLUME_SIZE),
                        {
                            "name": "fluentd-tmp",
                            "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"},
                        },
                        {"name": "fluentd-config", "configMap": {"name": FLUENTD_CONFIGMAP}},
                    ],
                }
            }
        },
    }
