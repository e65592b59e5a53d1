"""``spec.artifact.uri``: which source holds the artifact, and where inside it."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from generator.errors import MlgitopsError

# MLflow's own form of registry URIs (mlflow.store.artifact.utils.models):
# models:/<name>/<version> and models:/<name>@<alias>.
_MODEL_VERSION = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>[1-9][0-9]*)$")
_MODEL_ALIAS = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[A-Za-z0-9_-]+)$")
# S3 bucket names: 3-63 lower-case letters, digits, dots and hyphens (AWS's bucket naming rules).
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class UriError(MlgitopsError):
    """A uri we cannot fetch from; the message says why and ``hint`` how to write it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class RegistryModel:
    """A version of a registered model in MLflow's Model Registry, by number or by alias."""

    name: str
    version: str = ""
    alias: str = ""

    def __str__(self) -> str:
        return f"models:/{self.name}@{self.alias}" if self.alias else self.uri_for(self.version)

    def uri_for(self, version: str) -> str:
        """The uri of one version of this model (what an alias resolved to)."""
        return f"models:/{self.name}/{version}"


@dataclass(frozen=True)
class ObjectKey:
    """An object in an S3 bucket."""

    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


@dataclass(frozen=True)
class WebFile:
    """A file served over HTTPS."""

    url: str

    def __str__(self) -> str:
        return self.url


Reference = RegistryModel | ObjectKey | WebFile


def parse_uri(uri: str) -> Reference:
    """The source named by ``uri``; raises UriError for a form no source understands."""
    if uri.startswith("models:/"):
        if match := _MODEL_VERSION.match(uri):
            return RegistryModel(match["name"], version=match["version"])
        if match := _MODEL_ALIAS.match(uri):
            return RegistryModel(match["name"], alias=match["alias"])
        raise UriError(
            f"{uri!r} is not a registered model version or alias",
            "write models:/NAME/VERSION (a number) or models:/NAME@ALIAS",
        )
    if uri.startswith("s3://"):
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        if not _BUCKET.match(bucket) or not key or key.endswith("/"):
            raise UriError(
                f"{uri!r} does not name an object in a bucket",
                "write s3://BUCKET/KEY, the key of the .onnx file itself",
            )
        return ObjectKey(bucket, key)
    if uri.startswith("https://"):
        parts = urlsplit(uri)
        if not parts.hostname or parts.username or parts.password or parts.path in ("", "/"):
            raise UriError(
                f"{uri!r} does not name a file on a host",
                "write https://HOST/PATH; credentials belong in ~/.netrc, never in model.yaml",
            )
        return WebFile(uri)
    raise UriError(
        f"{uri!r} has a scheme mlgitops cannot fetch",
        "use models:/NAME/VERSION, models:/NAME@ALIAS, s3://BUCKET/KEY or https://HOST/PATH",
    )


def sibling(reference: ObjectKey | WebFile, location: str) -> ObjectKey | WebFile:
    """The file at ``location`` relative to the graph's folder (ONNX external data lives beside
    the graph, where ONNX Runtime looks for it)."""
    if isinstance(reference, ObjectKey):
        folder = posixpath.dirname(reference.key)
        return ObjectKey(reference.bucket, posixpath.join(folder, location) if folder else location)
    parts = urlsplit(reference.url)
    path = posixpath.join(posixpath.dirname(parts.path), location)
    return WebFile(urlunsplit((parts.scheme, parts.netloc, path, "", "")))
