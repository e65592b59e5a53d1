"""render/namespace.py: each environment's namespace overlay."""

from __future__ import annotations

from generator.render.namespace import render_namespace
from tests.unit.render.conftest import SpecsFactory


def test_the_namespace_enforces_the_restricted_pod_security_standard(
    specs: SpecsFactory,
) -> None:
    platform = specs().platform
    env = platform.environments[0]

    labels = render_namespace(env, platform)["namespace.yaml"]["metadata"]["labels"]

    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"
        assert labels[f"pod-security.kubernetes.io/{mode}-version"] == (
            f"v{platform.kubernetes_version}"
        )


def test_quota_default_deny_and_kustomization_of_each_environment(specs: SpecsFactory) -> None:
    platform = specs().platform
    for env in platform.environments:
        files = render_namespace(env, platform)

        hard = files["resourcequota.yaml"]["spec"]["hard"]
        assert (hard["requests.cpu"], hard["requests.memory"], hard["pods"]) == (
            env.quota.cpu,
            env.quota.memory,
            str(env.quota.pods),
        )
        deny = files["networkpolicy.yaml"]["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress"]}
        kustomization = files["kustomization.yaml"]
        assert kustomization["namespace"] == env.namespace
        assert kustomization["resources"] == sorted(set(files) - {"kustomization.yaml"})
        # Nothing a pod reads lives here (issue 13): Fluentd's configuration is per overlay.
        assert "fluentd-configmap.yaml" not in files
        egress = files["networkpolicy-egress.yaml"]["spec"]
        assert egress == {"podSelector": {}, "policyTypes": ["Egress"]}
        assert ("networkpolicy-logging.yaml" in files) == (env.fluentd is not None)
