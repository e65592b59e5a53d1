"""clusters/flux/<env>/: the GitRepository and the Kustomizations, ordered by dependsOn."""

from __future__ import annotations

from typing import Any

from generator.plan import Plan

from .conftest import REPO_ROOT


def _in_env(clusters: dict[str, Any], env: str, kind: str) -> dict[str, dict[str, Any]]:
    return {
        path: obj
        for path, obj in clusters.items()
        if path.startswith(f"clusters/flux/{env}/")
        and obj.get("kind") == kind
        and obj["apiVersion"].startswith(("kustomize.toolkit", "source.toolkit"))
    }


def _env_names(plan: Plan) -> list[str]:
    assert plan.platform is not None
    return plan.platform.environment_names


def test_one_git_repository_per_environment(clusters: dict[str, Any], plan: Plan) -> None:
    for env in _env_names(plan):
        (repo,) = _in_env(clusters, env, "GitRepository").values()
        assert repo["spec"]["url"] == "https://github.com/acme/ml-deployments.git"
        assert repo["spec"]["ref"] == {"branch": "main"}
        assert repo["spec"]["interval"]


def test_one_kustomization_per_overlay(clusters: dict[str, Any], plan: Plan) -> None:
    for env in _env_names(plan):
        paths = sorted(o["spec"]["path"] for o in _in_env(clusters, env, "Kustomization").values())
        overlays = sorted(
            f"./overlays/{env}/{p.name}" for p in (REPO_ROOT / "overlays" / env).iterdir()
        )
        assert paths == overlays


def test_models_depend_on_the_namespace_kustomization(clusters: dict[str, Any], plan: Plan) -> None:
    for env in _env_names(plan):
        objects = _in_env(clusters, env, "Kustomization").values()
        (namespace,) = [o for o in objects if o["spec"]["path"].endswith("/_namespace")]
        assert "dependsOn" not in namespace["spec"]
        models = [o for o in objects if o is not namespace]
        assert models
        for model in models:
            assert model["spec"]["dependsOn"] == [{"name": namespace["metadata"]["name"]}]
            assert model["metadata"]["namespace"] == namespace["metadata"]["namespace"]


def test_kustomizations_prune_wait_and_time_out(clusters: dict[str, Any], plan: Plan) -> None:
    for env in _env_names(plan):
        (repo,) = _in_env(clusters, env, "GitRepository").values()
        for obj in _in_env(clusters, env, "Kustomization").values():
            spec = obj["spec"]
            assert spec["prune"] is True and spec["wait"] is True
            assert spec["timeout"] == "5m"
            assert "targetNamespace" not in spec
            assert spec["sourceRef"] == {"kind": "GitRepository", "name": repo["metadata"]["name"]}


def test_env_kustomization_lists_every_flux_file(clusters: dict[str, Any], plan: Plan) -> None:
    for env in _env_names(plan):
        prefix = f"clusters/flux/{env}/"
        listed = clusters[prefix + "kustomization.yaml"]["resources"]
        present = sorted(
            p.removeprefix(prefix)
            for p in clusters
            if p.startswith(prefix) and not p.endswith("/kustomization.yaml")
        )
        assert listed == present
