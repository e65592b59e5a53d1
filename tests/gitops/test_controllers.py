"""Only the controllers environments.yaml asks for are generated; all of it builds."""

from __future__ import annotations

import dataclasses

import pytest
import yaml

from generator.plan import Plan
from generator.render.gitops import emitted_kinds, render_clusters
from generator.verify import kustomize

from .conftest import REPO_ROOT


@pytest.mark.parametrize(
    ("controller", "roots"),
    [
        ("argocd", {"clusters/argocd"}),
        ("flux", {"clusters/flux"}),
        ("both", {"clusters/argocd", "clusters/flux"}),
    ],
)
def test_only_the_chosen_controllers_are_generated(
    plan: Plan, controller: str, roots: set[str]
) -> None:
    assert plan.platform is not None
    platform = dataclasses.replace(plan.platform, controller=controller)
    files = render_clusters(platform, {"dev": ["iris-classifier"]}, [("", "Namespace")])
    assert {"/".join(f.path.split("/")[:2]) for f in files} == roots


def test_emitted_kinds_skip_kustomize_files_and_keep_groups() -> None:
    objects = [
        {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization"},
        {"apiVersion": "apps/v1", "kind": "Deployment"},
        {"apiVersion": "v1", "kind": "Service"},
        {"apiVersion": "apps/v1", "kind": "Deployment"},
        "not an object",
    ]
    assert emitted_kinds(objects) == [("", "Service"), ("apps", "Deployment")]


@pytest.mark.parametrize(
    "directory", ["clusters/argocd", "clusters/flux/dev", "clusters/flux/prod"]
)
def test_cluster_entry_points_build_with_kustomize(directory: str) -> None:
    binary = kustomize.check_available()
    result = kustomize.build(binary, REPO_ROOT / directory, directory)
    assert result.ok, result.error
    built = [doc for doc in yaml.safe_load_all(result.output) if doc]
    listed = yaml.safe_load((REPO_ROOT / directory / "kustomization.yaml").read_text())["resources"]
    assert len(built) == len(listed)
