"""render/fluentd.py: the log sidecar and its configuration."""

from __future__ import annotations

from generator.load.platform import SIDECAR_REQUESTS
from generator.render.components import render_components
from generator.render.fluentd import fluent_conf, fluentd_patch
from tests.unit.render.conftest import SpecsFactory


def test_the_sidecar_requests_what_the_quota_counts_and_runs_restricted(
    specs: SpecsFactory,
) -> None:
    env = next(e for e in specs().platform.environments if e.fluentd is not None)

    patch = fluentd_patch(env)

    [sidecar] = [
        c for c in patch["spec"]["template"]["spec"]["containers"] if c["name"] == "fluentd"
    ]
    assert sidecar["resources"]["requests"] == SIDECAR_REQUESTS
    assert sidecar["securityContext"]["allowPrivilegeEscalation"] is False
    assert {"name": "ENVIRONMENT", "value": env.name} in sidecar["env"]
    assert all(m["readOnly"] for m in sidecar["volumeMounts"] if m["name"] == "model-logs")


def test_the_configuration_forwards_to_the_environment_aggregator(specs: SpecsFactory) -> None:
    env = next(e for e in specs().platform.environments if e.fluentd is not None)
    assert env.fluentd is not None

    conf = fluent_conf(env)

    assert f"host {env.fluentd.aggregator_host}\n" in conf
    assert f"port {env.fluentd.aggregator_port}\n" in conf
    # The component carries fluent.conf and merges it into each overlay's hashed ConfigMap.
    component = render_components(env)["fluentd"]
    assert component["fluent.conf"] == conf
    assert component["kustomization.yaml"]["configMapGenerator"] == [
        {"name": "mlgitops-fluentd", "behavior": "merge", "files": ["fluent.conf"]}
    ]
