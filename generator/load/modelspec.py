"""A model as written in models/<name>/model.yaml, typed, before any environment is applied."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from generator.load.signature import Signature, from_data
from generator.load.yamlsource import Document

TUNABLE_FIELDS = (
    "resources",
    "accelerator",
    "gpus",
    "scaling",
    "server",
    "logging",
    "config",
    "slo",
    "rollout",
    "monitoring",
)


@dataclass(frozen=True)
class SecretRef:
    env: str
    secret: str
    key: str


@dataclass(frozen=True)
class PolicyWaiver:
    rule: str
    reason: str


@dataclass(frozen=True)
class ExternalFile:
    """An ONNX external data file: the location the graph records, and its sha256."""

    path: str
    sha256: str


@dataclass(frozen=True)
class ModelSource:
    name: str
    owner: str
    description: str
    version: str
    artifact_path: str
    artifact_sha256: str
    tunables: Mapping[str, Any]
    secret_refs: tuple[SecretRef, ...]
    overrides: Mapping[str, Mapping[str, Any]]
    folder: str
    document: Document
    waivers: tuple[PolicyWaiver, ...] = ()
    signature: Signature | None = None
    artifact_uri: str = ""
    """Where a registry or bucket holds the artifact; "" when ``artifact_path`` names a file."""
    external_data: tuple[ExternalFile, ...] = ()
    egress: tuple[Mapping[str, Any], ...] = ()
    """spec.network.egress as written (schema-valid): destinations and ports."""

    @property
    def file(self) -> str:
        return self.document.file


def build_model(document: Document, folder: str) -> ModelSource:
    """Typed view of a schema-valid model.yaml."""
    data = document.data
    spec = data["spec"]
    return ModelSource(
        name=data["metadata"]["name"],
        owner=data["metadata"]["owner"],
        description=data["metadata"].get("description", ""),
        version=spec["version"],
        artifact_path=spec["artifact"].get("path", ""),
        artifact_sha256=spec["artifact"]["sha256"],
        tunables={key: spec[key] for key in TUNABLE_FIELDS if key in spec},
        secret_refs=tuple(SecretRef(**ref) for ref in spec.get("secretRefs", [])),
        overrides=spec.get("environments", {}),
        folder=folder,
        document=document,
        waivers=tuple(
            PolicyWaiver(w["rule"], w["reason"]) for w in spec.get("policy", {}).get("waivers", [])
        ),
        signature=from_data(spec["signature"]) if "signature" in spec else None,
        artifact_uri=spec["artifact"].get("uri", ""),
        external_data=tuple(
            ExternalFile(f["path"], f["sha256"]) for f in spec["artifact"].get("externalData", [])
        ),
        egress=tuple(spec.get("network", {}).get("egress", [])),
    )
