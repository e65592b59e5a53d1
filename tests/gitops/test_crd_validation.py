"""The clusters/ objects validate against the vendored CRD schemas; broken ones do not."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest

from generator.plan import Plan
from generator.render.tree import RenderedFile
from generator.verify import crdschema
from generator.verify.objects import verify_objects

from .conftest import REPO_ROOT


def _custom_resources(clusters: dict[str, Any]) -> dict[str, Any]:
    return {path: obj for path, obj in clusters.items() if crdschema.is_custom_resource(obj)}


def test_every_custom_resource_kind_is_rendered(clusters: dict[str, Any]) -> None:
    kinds = {obj["kind"] for obj in _custom_resources(clusters).values()}
    assert kinds == {"AppProject", "ApplicationSet", "GitRepository", "Kustomization"}


def test_rendered_objects_match_their_crd_schemas(clusters: dict[str, Any]) -> None:
    errors = {
        path: crdschema.object_errors(obj) for path, obj in _custom_resources(clusters).items()
    }
    assert errors and all(messages == [] for messages in errors.values()), errors


def test_committed_clusters_tree_is_what_generate_renders(plan: Plan) -> None:
    for file in plan.files:
        if file.path.startswith("clusters/"):
            assert (REPO_ROOT / file.path).read_text(encoding="utf-8") == file.text, file.path


def test_each_vendored_schema_names_its_source() -> None:
    source = (crdschema.CRD_DIR / "SOURCE.md").read_text(encoding="utf-8")
    assert "datreeio/CRDs-catalog" in source and "MIT" in source
    for schema in crdschema.CRD_DIR.glob("*/*.json"):
        assert schema.relative_to(crdschema.CRD_DIR).as_posix() in source


def _flux_kustomization(clusters: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(clusters["clusters/flux/dev/model-iris-classifier.yaml"])


def _application_set(clusters: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(clusters["clusters/argocd/applicationset-dev.yaml"])


def _break_type(obj: dict[str, Any]) -> None:
    obj["spec"]["prune"] = "yes"


def _misspell_field(obj: dict[str, Any]) -> None:
    obj["spec"]["dependOn"] = obj["spec"].pop("dependsOn")


def _drop_required(obj: dict[str, Any]) -> None:
    del obj["spec"]["sourceRef"]


@pytest.mark.parametrize(
    ("breakage", "expected"),
    [
        pytest.param(_break_type, "spec.prune", id="wrong-type"),
        pytest.param(_misspell_field, "dependOn", id="unknown-spec-field"),
        pytest.param(_drop_required, "sourceRef", id="missing-required"),
    ],
)
def test_broken_flux_kustomization_fails(
    clusters: dict[str, Any], breakage: Any, expected: str
) -> None:
    obj = _flux_kustomization(clusters)
    breakage(obj)
    errors = crdschema.object_errors(obj)
    assert any(expected in message for message in errors), errors


def test_unknown_field_in_applicationset_template_fails(clusters: dict[str, Any]) -> None:
    obj = _application_set(clusters)
    obj["spec"]["template"]["spec"]["syncPolicy"]["automated"]["selfheal"] = True
    errors = crdschema.object_errors(obj)
    assert any("selfheal" in message for message in errors), errors


def test_wrong_destination_type_in_appproject_fails(clusters: dict[str, Any]) -> None:
    obj = copy.deepcopy(clusters["clusters/argocd/appproject.yaml"])
    obj["spec"]["destinations"] = "https://kubernetes.default.svc"
    assert any("destinations" in message for message in crdschema.object_errors(obj))


def test_kind_without_vendored_schema_is_reported() -> None:
    obj = {"apiVersion": "argoproj.io/v1alpha1", "kind": "Experiment", "metadata": {"name": "x"}}
    assert crdschema.object_errors(obj) == [
        "no vendored CRD schema for argoproj.io/v1alpha1 Experiment "
        "(looked for experiment_v1alpha1.json)"
    ]


def test_verify_objects_reports_a_broken_cluster_object(plan: Plan) -> None:
    path = "clusters/flux/dev/model-iris-classifier.yaml"
    broken = [dataclasses.replace(f, obj=_broken(f)) if f.path == path else f for f in plan.files]
    problems = verify_objects(dataclasses.replace(plan, files=broken))
    assert [p.file for p in problems] == [path]
    assert "Kustomization" in problems[0].message and "wait" in problems[0].message


def test_verify_objects_accepts_the_example_repository(plan: Plan) -> None:
    assert verify_objects(plan) == []


def _broken(file: RenderedFile) -> Any:
    obj = copy.deepcopy(file.obj)
    obj["spec"]["wait"] = "always"
    return obj
