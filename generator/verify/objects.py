"""Strict schema validation of objects: rendered ones in memory, built ones from kustomize."""

from __future__ import annotations

from typing import Any

from generator.layout import generated_model_of
from generator.plan import Plan
from generator.problems import Problem
from generator.verify import crdschema, kubeschema


def object_sort_key(obj: dict[str, object]) -> tuple[str, str]:
    """``(kind, name)`` of an object, for messages and stable order."""
    metadata = obj.get("metadata")
    name = metadata.get("name", "") if isinstance(metadata, dict) else ""
    return (str(obj.get("kind")), str(name))


def verify_objects(plan: Plan) -> list[Problem]:
    """Strict Kubernetes schema validation of every complete object rendered in memory;
    Argo CD and Flux objects against the vendored CRD schemas."""
    assert plan.platform is not None
    version = plan.platform.kubernetes_version
    problems = []
    for file in plan.files:
        obj = file.obj
        if isinstance(obj, dict) and crdschema.is_custom_resource(obj):
            for message in crdschema.object_errors(obj):
                problems.append(Problem(file.path, 0, 0, f"{obj['kind']}: {message}"))
            continue
        if (
            not isinstance(obj, dict)
            or "metadata" not in obj
            or obj.get("kind")
            in (
                "Kustomization",
                "Component",
            )
        ):
            continue
        if file.path.startswith("components/"):
            continue
        if file.path.startswith("base/") and not plan.in_focus(generated_model_of(file.path) or ""):
            continue
        for message in kubeschema.object_errors(version, obj):
            problems.append(Problem(file.path, 0, 0, f"{obj['kind']}: {message}"))
    return problems


def built_object_errors(version: str, obj: dict[str, Any]) -> list[str]:
    """Kubernetes schemas for built-in kinds, vendored CRD schemas for custom resources
    (the overlays' ServiceMonitors and PrometheusRules)."""
    if crdschema.is_custom_resource(obj):
        return crdschema.object_errors(obj)
    return kubeschema.object_errors(version, obj)
