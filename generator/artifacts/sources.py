"""Downloads, each through its protocol's well-kept client: MLflow's own client for the Model
Registry, boto3 for S3, requests for HTTPS. Every client reads its standard configuration from
the environment (``MLFLOW_TRACKING_URI`` and ``MLFLOW_TRACKING_USERNAME``/``_PASSWORD``/``_TOKEN``;
``AWS_ACCESS_KEY_ID``, ``AWS_PROFILE``, ``AWS_WEB_IDENTITY_TOKEN_FILE``, ``AWS_ENDPOINT_URL``...;
``REQUESTS_CA_BUNDLE``, ``~/.netrc``, proxies), so no secret is ever written in model.yaml.

Each failure becomes a FetchError that says what went wrong in the user's terms (not found,
access denied, cut off, unreachable) and what to do about it. The clients are imported on first
use: a validate that fetches nothing never pays for them.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.artifacts.reference import ObjectKey, Reference, RegistryModel, WebFile, sibling
from generator.errors import MlgitopsError

_CHUNK = 1 << 20
_TIMEOUT = (15, 120)
"""requests' (connect, read) timeouts in seconds: a stalled server fails the fetch."""
MLFLOW_RETRY_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
}
"""MLflow's client retries an unreachable server 7 times with a doubling backoff (about two
minutes) unless told otherwise; a fetch says the server is down within seconds. A user's own
settings of these variables win."""


class FetchError(MlgitopsError):
    """A download that did not happen; ``hint`` says what the user can do about it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class MlflowFile:
    """A file inside a registered model version's artifacts, as MLflow addresses it."""

    artifact_uri: str

    def __str__(self) -> str:
        return self.artifact_uri


Locator = ObjectKey | WebFile | MlflowFile


@dataclass(frozen=True)
class Origin:
    """Where a reference's graph is read from, once a registry name has been resolved."""

    graph: Locator
    resolved: str = ""
    """For a registry alias, the version it named when it was resolved (models:/NAME/VERSION)."""

    def data_file(self, location: str) -> Locator:
        """The external data file at ``location``, beside the graph wherever the graph is."""
        if isinstance(self.graph, MlflowFile):
            folder = posixpath.dirname(self.graph.artifact_uri)
            return MlflowFile(f"{folder}/{location}")
        return sibling(self.graph, location)


def resolve(reference: Reference) -> Origin:
    """Ask the registry which files a model version holds; other sources need no question."""
    if isinstance(reference, RegistryModel):
        return _resolve_registry(reference)
    return Origin(reference)


def download(locator: Locator, target: Path) -> None:
    """Write the file at ``locator`` to ``target`` (in a staging folder the caller removes)."""
    if isinstance(locator, WebFile):
        _download_web(locator, target)
    elif isinstance(locator, ObjectKey):
        _download_object(locator, target)
    else:
        _download_mlflow(locator, target)


# --- HTTPS -------------------------------------------------------------------------------


def _download_web(file: WebFile, target: Path) -> None:
    import requests

    url = file.url
    try:
        with requests.get(url, stream=True, timeout=_TIMEOUT) as response:
            if response.status_code in (401, 403):
                raise FetchError(
                    f"{url}: access denied (HTTP {response.status_code})",
                    "give this machine credentials for the host in ~/.netrc (or NETRC), "
                    "or ask its owner for read access",
                )
            if response.status_code in (404, 410):
                raise FetchError(
                    f"{url}: not found (HTTP {response.status_code})",
                    "check spec.artifact.uri; the file may have been moved or removed",
                )
            if response.status_code != 200:
                raise FetchError(
                    f"{url}: the server answered HTTP {response.status_code} {response.reason}",
                    "try again later; if it persists, ask the server's owner",
                )
            _write(response.iter_content(_CHUNK), target)
    except requests.exceptions.SSLError as error:
        raise FetchError(
            f"{url}: the server's certificate is not trusted ({_reason(error)})",
            "point REQUESTS_CA_BUNDLE at the CA bundle that signed it",
        ) from error
    except requests.exceptions.ChunkedEncodingError as error:
        raise FetchError(
            f"{url}: the download was cut off after {_size(target)} bytes ({_reason(error)})",
            "try again; nothing was kept",
        ) from error
    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
        raise FetchError(
            f"{url}: cannot reach the server ({_reason(error)})",
            "check the host name and that the server is up and reachable from here",
        ) from error


# --- S3 ----------------------------------------------------------------------------------


def _download_object(key: ObjectKey, target: Path) -> None:
    import boto3.session
    import botocore.exceptions as aws

    where = str(key)
    try:
        # A session of its own: boto3's default one keeps the first credentials it resolved.
        client = boto3.session.Session().client("s3")
        body = client.get_object(Bucket=key.bucket, Key=key.key)["Body"]
        _write(body.iter_chunks(_CHUNK), target)
    except aws.NoCredentialsError as error:
        raise FetchError(
            f"{where}: no AWS credentials found",
            "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or a web identity "
            "role (AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE)",
        ) from error
    except aws.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
        if code in ("NoSuchKey", "NoSuchBucket", "404") or status == 404:
            what = "no such bucket" if code == "NoSuchBucket" else "no such object"
            raise FetchError(
                f"{where}: not found ({what})", "check spec.artifact.uri and AWS_ENDPOINT_URL"
            ) from error
        if status in (401, 403) or code in ("AccessDenied", "InvalidAccessKeyId"):
            raise FetchError(
                f"{where}: access denied ({code or status})",
                "use credentials allowed s3:GetObject on this key (AWS_ACCESS_KEY_ID, "
                "AWS_PROFILE or a web identity role)",
            ) from error
        raise FetchError(f"{where}: {error}", "check spec.artifact.uri") from error
    except (aws.EndpointConnectionError, aws.ConnectTimeoutError) as error:
        raise FetchError(
            f"{where}: cannot reach the S3 endpoint ({error})",
            "check AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3) and that the service is up",
        ) from error
    except (aws.IncompleteReadError, aws.ResponseStreamingError, aws.ReadTimeoutError) as error:
        raise FetchError(
            f"{where}: the download was cut off after {_size(target)} bytes ({error})",
            "try again; nothing was kept",
        ) from error


# --- MLflow Model Registry ---------------------------------------------------------------


def _resolve_registry(model: RegistryModel) -> Origin:
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    tracking = _tracking_uri(str(model))
    client = MlflowClient(tracking_uri=tracking, registry_uri=tracking)
    try:
        if model.alias:
            version = str(client.get_model_version_by_alias(model.name, model.alias).version)
        else:
            version = str(client.get_model_version(model.name, model.version).version)
        root = str(client.get_model_version_download_uri(model.name, version))
        graph = _locate_graph(model, root, tracking)
    except MlflowException as error:
        raise _registry_error(str(model), error) from error
    resolved = model.uri_for(version) if model.alias else ""
    return Origin(MlflowFile(f"{root.rstrip('/')}/{graph}"), resolved)


def _tracking_uri(subject: str) -> str:
    """MLFLOW_TRACKING_URI, passed to every call: MLflow's own default (a local ./mlruns)
    would silently read another registry."""
    tracking = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not tracking:
        raise FetchError(
            f"{subject}: MLFLOW_TRACKING_URI is not set",
            "set MLFLOW_TRACKING_URI to the tracking server that holds the registry",
        )
    for name, value in MLFLOW_RETRY_DEFAULTS.items():
        os.environ.setdefault(name, value)
    return tracking


def _locate_graph(model: RegistryModel, root: str, tracking: str) -> str:
    """The ONNX file inside the logged model: the onnx flavor's ``data`` in its MLmodel file
    (what mlflow.onnx.log_model writes), else the one .onnx file among its artifacts."""
    import mlflow.artifacts
    import yaml

    listing = mlflow.artifacts.list_artifacts(artifact_uri=root, tracking_uri=tracking)
    names = [info.path.rsplit("/", 1)[-1] for info in listing if not info.is_dir]
    if "MLmodel" in names:
        with tempfile.TemporaryDirectory(prefix="mlgitops-mlmodel-") as scratch:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"{root.rstrip('/')}/MLmodel", dst_path=scratch, tracking_uri=tracking
            )
            description = yaml.safe_load(Path(local).read_text(encoding="utf-8")) or {}
        data = (description.get("flavors") or {}).get("onnx", {}).get("data")
        if isinstance(data, str) and data:
            return data
    onnx_files = [name for name in names if name.endswith(".onnx")]
    if len(onnx_files) != 1:
        raise FetchError(
            f"{model}: the logged model holds {len(onnx_files)} .onnx files "
            f"({', '.join(sorted(names)) or 'no files'}) and no MLmodel naming one",
            "log the model with mlflow.onnx.log_model, or register a model with one .onnx file",
        )
    return onnx_files[0]


def _download_mlflow(file: MlflowFile, target: Path) -> None:
    import mlflow.artifacts
    from mlflow.exceptions import MlflowException

    tracking = _tracking_uri(file.artifact_uri)
    try:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=file.artifact_uri,
            dst_path=str(target.parent / f".{target.name}.d"),
            tracking_uri=tracking,
        )
    except (MlflowException, OSError) as error:
        if _cut_off(error):
            raise FetchError(
                f"{file.artifact_uri}: the download was cut off ({_reason(error)})",
                "try again; nothing was kept",
            ) from error
        if isinstance(error, MlflowException):
            raise _registry_error(file.artifact_uri, error) from error
        raise FetchError(
            f"{file.artifact_uri}: the download failed ({_reason(error)})",
            "try again; nothing was kept",
        ) from error
    os.replace(local, target)


_CUT_OFF = ("ChunkedEncodingError", "IncompleteRead", "ProtocolError", "ContentDecodingError")
"""What requests and urllib3 raise when a response ends before its Content-Length (MLflow's
downloads go through requests, and may wrap the error in its own exception)."""


def _cut_off(error: BaseException) -> bool:
    seen: BaseException | None = error
    while seen is not None:
        if type(seen).__name__ in _CUT_OFF or "Connection broken" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _registry_error(where: str, error: Any) -> FetchError:
    code = str(getattr(error, "error_code", ""))
    text = str(getattr(error, "message", "") or error)
    status = int(error.get_http_status_code()) if hasattr(error, "get_http_status_code") else 0
    # A missing alias comes back as INVALID_PARAMETER_VALUE "... alias X not found."
    if code == "RESOURCE_DOES_NOT_EXIST" or "not found" in text.lower() or status == 404:
        return FetchError(
            f"{where}: not found in the registry ({_first_line(text)})",
            "check the model name and version or alias in spec.artifact.uri "
            "(and MLFLOW_TRACKING_URI)",
        )
    if (
        code in ("PERMISSION_DENIED", "UNAUTHENTICATED")
        or status in (401, 403)
        or ("error code 401" in text or "error code 403" in text)
    ):
        return FetchError(
            f"{where}: access denied by the tracking server ({_first_line(text)})",
            "set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD (or MLFLOW_TRACKING_TOKEN) "
            "for a user allowed to read this model",
        )
    if "Max retries exceeded" in text or "Connection refused" in text:
        return FetchError(
            f"{where}: cannot reach the tracking server at {os.environ.get('MLFLOW_TRACKING_URI')}",
            "check MLFLOW_TRACKING_URI and that the server is up and reachable from here",
        )
    return FetchError(f"{where}: {_first_line(text)}", "check spec.artifact.uri")


# --- shared ------------------------------------------------------------------------------


def _write(chunks: Iterable[bytes], target: Path) -> None:
    with target.open("wb") as out:
        for chunk in chunks:
            out.write(chunk)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _reason(error: BaseException) -> str:
    """The innermost cause, which names the actual failure (refused, reset, verify failed)."""
    while error.__cause__ is not None or error.__context__ is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return _first_line(str(error) or type(error).__name__)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= 300 else line[:297] + "..."
