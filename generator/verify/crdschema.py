"""Validation of the custom resources under ``clusters/`` against vendored CRD schemas.

The schemas (``schemas/crds/<group>/<kind>_<version>.json``, see SOURCE.md there) are compiled
once per kind, like ``kubeschema``. A CRD schema only constrains what its ``openAPIV3Schema``
lists; where it leaves ``spec`` open we still refuse unknown top-level ``spec`` fields, since a
misspelt field there (``dependOn``) is silently ignored by the controller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

CRD_DIR = Path(__file__).resolve().parent.parent / "schemas" / "crds"
GROUPS = (
    "argoproj.io",
    "kustomize.toolkit.fluxcd.io",
    "source.toolkit.fluxcd.io",
    "monitoring.coreos.com",
    "flagger.app",
)


def is_custom_resource(obj: Mapping[str, Any]) -> bool:
    """Whether ``obj`` belongs to a group whose schemas live here, not in the Kubernetes set."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    return group in GROUPS


def schema_path(api_version: str, kind: str) -> Path:
    group, _, version = api_version.rpartition("/")
    return CRD_DIR / group / f"{kind.lower()}_{version}.json"


@cache
def _schema(api_version: str, kind: str) -> dict[str, Any] | None:
    path = schema_path(api_version, kind)
    if not path.is_file():
        return None
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@cache
def _validator(api_version: str, kind: str) -> Any:
    schema = _schema(api_version, kind)
    return None if schema is None else jsonschema_rs.Draft7Validator(schema)


def _unknown_spec_fields(schema: Mapping[str, Any], obj: Mapping[str, Any]) -> list[str]:
    spec_schema = schema.get("properties", {}).get("spec", {})
    spec = obj.get("spec")
    if spec_schema.get("additionalProperties") is False or not isinstance(spec, Mapping):
        return []
    known = set(spec_schema.get("properties", {}))
    return [f"spec: unknown field {key!r}" for key in sorted(spec) if key not in known]


def _template_errors(obj: Mapping[str, Any]) -> list[str]:
    """An ApplicationSet's template, read as the Application it stamps out."""
    template = obj.get("spec", {}).get("template")
    if obj.get("kind") != "ApplicationSet" or not isinstance(template, Mapping):
        return []
    application = {
        "apiVersion": obj["apiVersion"],
        "kind": "Application",
        "metadata": template.get("metadata", {}),
        "spec": template.get("spec", {}),
    }
    return [f"spec.template: {message}" for message in object_errors(application)]


def object_errors(obj: Mapping[str, Any]) -> list[str]:
    """Messages for every CRD schema violation of ``obj``; empty when valid."""
    api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
    validator = _validator(api_version, kind)
    schema = _schema(api_version, kind)
    if validator is None or schema is None:
        wanted = schema_path(api_version, kind).name
        return [f"no vendored CRD schema for {api_version} {kind} (looked for {wanted})"]
    messages = []
    for error in validator.iter_errors(obj):
        where = ".".join(str(p) for p in error.instance_path) or "(object)"
        messages.append(f"{where}: {error.message}")
    messages += _unknown_spec_fields(schema, obj)
    messages += _template_errors(obj)
    return sorted(messages)
