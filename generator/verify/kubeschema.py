"""Strict Kubernetes schema validation of rendered objects.

The schemas are those the kubernetes-validate wheel ships (strict variants: unknown fields are
errors). We compile one validator per kind and version, once, with a Rust JSON Schema engine:
re-reading and re-compiling per object is what makes the kubernetes-validate CLI slow.
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema_rs

from generator.errors import MlgitopsError


def _package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it: importing
    kubernetes-validate pulls in the Python jsonschema stack, a tenth of a second of every
    CLI start, for files we only read."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"the {name} package is not installed")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


SCHEMA_ROOT = _package_dir("kubernetes_validate") / "kubernetes-json-schema"
_DEFINITIONS_URI = "file:///api/_definitions.json"


class UnknownKind(MlgitopsError):
    """No schema of this apiVersion and kind in the Kubernetes version asked for."""


def available_versions() -> list[str]:
    found = []
    for entry in SCHEMA_ROOT.iterdir():
        match = re.fullmatch(r"v(\d+)\.(\d+)\.\d+-local-strict", entry.name)
        if match:
            found.append((int(match.group(1)), int(match.group(2)), entry.name))
    return [name for *_, name in sorted(found)]


@cache
def schema_dir(kubernetes_version: str) -> Path:
    """The newest shipped schema set not newer than ``kubernetes_version`` (e.g. "1.33")."""
    major, minor = (int(part) for part in kubernetes_version.split(".")[:2])
    candidates = [
        name
        for name in available_versions()
        if tuple(int(p) for p in name[1:].split("-")[0].split(".")[:2]) <= (major, minor)
    ]
    if not candidates:
        raise UnknownKind(f"no Kubernetes schemas for version {kubernetes_version}")
    return SCHEMA_ROOT / candidates[-1]


@cache
def _registry(kubernetes_version: str) -> Any:
    definitions = json.loads((schema_dir(kubernetes_version) / "_definitions.json").read_text())
    return jsonschema_rs.Registry([(_DEFINITIONS_URI, definitions)])


def _schema_file(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    group = group.split(".")[0]
    prefix = f"{group}-" if group else ""
    return f"{kind.lower()}-{prefix}{version}.json"


@cache
def validator_for(kubernetes_version: str, api_version: str, kind: str) -> Any:
    path = schema_dir(kubernetes_version) / _schema_file(api_version, kind)
    if not path.is_file():
        raise UnknownKind(f"no schema for {api_version} {kind} in Kubernetes {kubernetes_version}")
    return jsonschema_rs.Draft202012Validator(
        json.loads(path.read_text()),
        registry=_registry(kubernetes_version),
        base_uri=f"file:///api/{path.name}",
    )


def object_errors(kubernetes_version: str, obj: Mapping[str, Any]) -> list[str]:
    """Messages for every schema violation of ``obj``; empty when valid."""
    try:
        validator = validator_for(
            kubernetes_version, str(obj.get("apiVersion")), str(obj.get("kind"))
        )
    except UnknownKind as error:
        return [str(error)]
    if validator.is_valid(obj):
        return []
    messages = []
    for violation in validator.iter_errors(obj):
        where = ".".join(str(p) for p in violation.instance_path) or "(object)"
        messages.append(f"{where}: {violation.message}")
    return sorted(messages)
