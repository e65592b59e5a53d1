"""The Fluentd logging sidecar: its configuration and the pod patch that adds it."""

from __future__ import annotations

from typing import Any

from generator.load.platform import SIDECAR_REQUESTS, SIDECAR_STORAGE, Environment
from generator.load.storage import BUFFER_VOLUME_SIZE, LOG_VOLUME_SIZE, empty_dir
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


def fluentd_patch(env: Environment) -> Object:
    """Strategic-merge patch adding the sidecar to whichever Deployment the overlay holds."""
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
        ],
    }
    server: Object = {
        "name": SERVER_CONTAINER,
        "env": [{"name": "LOG_FILE", "value": LOG_FILE}],
        "volumeMounts": [{"name": "model-logs", "mountPath": LOG_DIR}],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "model"},
        "spec": {
            "template": {
                "spec": {
                    "containers": [server, sidecar],
                    "volumes": [
                        empty_dir("model-logs", LOG_VOLUME_SIZE),
                        empty_dir("fluentd-buffer", BUFFER_VOLUME_SIZE),
                        {"name": "fluentd-config", "configMap": {"name": FLUENTD_CONFIGMAP}},
                    ],
                }
            }
        },
    }
