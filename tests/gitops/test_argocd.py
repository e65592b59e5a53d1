"""clusters/argocd/: the AppProject's limits and each environment's ApplicationSet."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from generator.load.platform import Environment
from generator.plan import Plan
from generator.render.gitops_argocd import SYNC_WAVE

from .conftest import REPO_ROOT

REPO_URL = "https://github.com/acme/ml-deployments.git"


def _appsets(clusters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Environment name -> its ApplicationSet."""
    return {
        obj["metadata"]["labels"]["mlgitops.io/environment"]: obj
        for obj in clusters.values()
        if obj.get("kind") == "ApplicationSet"
    }


def _environments(plan: Plan) -> dict[str, Environment]:
    assert plan.platform is not None
    return {env.name: env for env in plan.platform.environments}


def test_appproject_allows_exactly_the_repository_clusters_and_namespaces(
    clusters: dict[str, Any],
) -> None:
    spec = clusters["clusters/argocd/appproject.yaml"]["spec"]
    assert spec["sourceRepos"] == [REPO_URL]
    assert spec["destinations"] == [
        {"server": "https://kubernetes.default.svc", "namespace": "ml-dev"},
        {"server": "https://kubernetes.default.svc", "namespace": "ml-staging"},
        {"server": "https://prod.k8s.acme.example:6443", "namespace": "ml-prod"},
    ]
    assert spec["clusterResourceWhitelist"] == [{"group": "", "kind": "Namespace"}]


def test_appproject_allows_exactly_the_kinds_the_overlays_build(
    clusters: dict[str, Any], plan: Plan
) -> None:
    """Built with real kustomize: every kind a controller will apply, and no other, is allowed."""
    from generator.verify import kustomize

    spec = clusters["clusters/argocd/appproject.yaml"]["spec"]
    allowed = {(k["group"], k["kind"]) for k in spec["namespaceResourceWhitelist"]}
    allowed |= {(k["group"], k["kind"]) for k in spec["clusterResourceWhitelist"]}
    binary = kustomize.check_available()
    built = set()
    for overlay in sorted((REPO_ROOT / "overlays").glob("*/*")):
        result = kustomize.build(binary, overlay, overlay.relative_to(REPO_ROOT).as_posix())
        assert result.ok, result.error
        for line in result.output.splitlines():
            if line.startswith("apiVersion:"):
                group = line.split(":", 1)[1].strip().strip('"').rpartition("/")[0]
            elif line.startswith("kind:"):
                built.add((group, line.split(":", 1)[1].strip().strip('"')))
    assert built == allowed


def test_one_applicationset_per_environment_over_its_overlay_dirs(
    clusters: dict[str, Any], plan: Plan
) -> None:
    appsets = _appsets(clusters)
    assert sorted(appsets) == sorted(_environments(plan))
    for env, appset in appsets.items():
        (generator,) = appset["spec"]["generators"]
        assert generator["git"]["repoURL"] == REPO_URL
        assert generator["git"]["revision"] == "main"
        assert generator["git"]["directories"] == [{"path": f"overlays/{env}/*"}]
        template = appset["spec"]["template"]["spec"]
        assert template["source"]["path"] == "{{ .path.path }}"
        assert template["project"] == "mlgitops"
        destination = _environments(plan)[env]
        assert template["destination"] == {
            "server": destination.cluster,
            "namespace": destination.namespace,
        }


def test_generator_glob_matches_every_overlay_including_namespace(clusters: dict[str, Any]) -> None:
    for env, appset in _appsets(clusters).items():
        pattern = appset["spec"]["generators"][0]["git"]["directories"][0]["path"]
        matched = {p.name for p in REPO_ROOT.glob(pattern) if p.is_dir()}
        assert "_namespace" in matched
        assert matched == {p.name for p in (REPO_ROOT / "overlays" / env).iterdir()}


def test_sync_is_automated_except_where_the_environment_says_manual(
    clusters: dict[str, Any],
) -> None:
    policies = {
        env: a["spec"]["template"]["spec"]["syncPolicy"] for env, a in _appsets(clusters).items()
    }
    assert policies["dev"]["automated"] == {"prune": True, "selfHeal": True}
    assert policies["staging"]["automated"] == {"prune": True, "selfHeal": True}
    assert "automated" not in policies["prod"]
    for policy in policies.values():
        assert "CreateNamespace=false" in policy["syncOptions"]
        assert "RespectIgnoreDifferences=true" in policy["syncOptions"]


@pytest.mark.parametrize(
    ("automated", "prune", "self_heal"),
    [(True, False, True), (True, True, False), (False, True, True)],
)
def test_sync_policy_follows_the_environment(
    plan: Plan, automated: bool, prune: bool, self_heal: bool
) -> None:
    from generator.load.platform import SyncPolicy
    from generator.render.gitops_argocd import application_set

    assert plan.platform is not None
    env = dataclasses.replace(
        plan.platform.environments[0], sync=SyncPolicy(automated, prune, self_heal)
    )
    spec = application_set(plan.platform, env)["spec"]
    policy = spec["template"]["spec"]["syncPolicy"]
    if automated:
        assert policy["automated"] == {"prune": prune, "selfHeal": self_heal}
        assert "strategy" in spec
    else:
        assert "automated" not in policy
        assert "strategy" not in spec, "RollingSync would sync a manual environment by itself"
    finalizers = spec["template"]["metadata"].get("finalizers", [])
    assert bool(finalizers) == (automated and prune)


def test_namespace_overlay_syncs_first(clusters: dict[str, Any]) -> None:
    for env, appset in _appsets(clusters).items():
        metadata = appset["spec"]["template"]["metadata"]
        wave = metadata["annotations"][SYNC_WAVE]
        assert wave == '{{ if eq .path.basename "_namespace" }}-1{{ else }}0{{ end }}'
        kind = metadata["labels"]["mlgitops.io/overlay-kind"]
        assert kind == '{{ if eq .path.basename "_namespace" }}namespace{{ else }}model{{ end }}'
        if env == "prod":
            continue
        steps = appset["spec"]["strategy"]["rollingSync"]["steps"]
        order = [step["matchExpressions"][0]["values"] for step in steps]
        assert order == [["namespace"], ["model"]]
        assert all(s["matchExpressions"][0]["key"] == "mlgitops.io/overlay-kind" for s in steps)


def test_hpa_managed_replicas_are_ignored(clusters: dict[str, Any]) -> None:
    for appset in _appsets(clusters).values():
        assert appset["spec"]["template"]["spec"]["ignoreDifferences"] == [
            {"group": "apps", "kind": "Deployment", "jsonPointers": ["/spec/replicas"]}
        ]


def test_application_names_are_unique_per_environment(clusters: dict[str, Any]) -> None:
    names = [a["spec"]["template"]["metadata"]["name"] for a in _appsets(clusters).values()]
    assert sorted(names) == [
        "dev-{{ .path.basenameNormalized }}",
        "prod-{{ .path.basenameNormalized }}",
        "staging-{{ .path.basenameNormalized }}",
    ]


def test_kustomization_lists_every_argocd_file(clusters: dict[str, Any]) -> None:
    listed = clusters["clusters/argocd/kustomization.yaml"]["resources"]
    present = sorted(
        p.rsplit("/", 1)[1]
        for p in clusters
        if p.startswith("clusters/argocd/") and not p.endswith("/kustomization.yaml")
    )
    assert listed == present
