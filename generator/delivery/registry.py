"""Read a manifest digest back from the registry itself.

The digest the engine reports after a push is the engine's own computation; the one that
matters for pinning is what the registry serves, so we ask it (HEAD on the manifest, the
Docker-Content-Digest header) and refuse to pin when the two disagree.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping

from generator.errors import ExitCode, MlgitopsError

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]"}
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


class RegistryError(MlgitopsError):
    """The registry did not give a digest; the message carries its answer (exit 2)."""

    exit_code = ExitCode.USAGE


def split_reference(repository: str) -> tuple[str, str]:
    """``host[:port]/path`` into the registry host and the repository path inside it."""
    host, _, path = repository.partition("/")
    if not path or ("." not in host and ":" not in host and host != "localhost"):
        raise RegistryError(f"{repository!r} does not start with a registry host")
    return host, path


def base_url(host: str) -> str:
    """Plain HTTP only for loopback, the same exception the Docker engine makes."""
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return f"{'http' if name in _LOCAL_HOSTS else 'https'}://{host}"


def manifest_digest(
    repository: str, tag: str, credentials: Mapping[str, str] | None = None, timeout: float = 30
) -> str:
    host, path = split_reference(repository)
    url = f"{base_url(host)}/v2/{path}/manifests/{urllib.parse.quote(tag)}"
    headers = {"Accept": ", ".join(MANIFEST_TYPES)}
    try:
        return _head_digest(url, headers, timeout)
    except urllib.error.HTTPError as error:
        if error.code != 401:
            raise RegistryError(f"HEAD {url}: HTTP {error.code} {error.reason}") from error
        challenge = error.headers.get("WWW-Authenticate", "")
    headers["Authorization"] = _authorization(challenge, credentials or {}, timeout)
    try:
        return _head_digest(url, headers, timeout)
    except urllib.error.HTTPError as error:
        raise RegistryError(f"HEAD {url}: HTTP {error.code} {error.reason}") from error


def _head_digest(url: str, headers: Mapping[str, str], timeout: float) -> str:
    request = urllib.request.Request(url, headers=dict(headers), method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            digest = response.headers.get("Docker-Content-Digest")
    except urllib.error.HTTPError:
        raise
    except urllib.error.URLError as error:
        raise RegistryError(f"HEAD {url}: {error.reason}") from error
    if not digest:
        raise RegistryError(f"HEAD {url}: no Docker-Content-Digest header in the answer")
    return str(digest)


def _authorization(challenge: str, credentials: Mapping[str, str], timeout: float) -> str:
    """Answer a Basic or Bearer challenge with the engine's stored login, if any."""
    scheme, _, params_text = challenge.partition(" ")
    user, password = credentials.get("username", ""), credentials.get("password", "")
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    if scheme.lower() == "basic":
        return f"Basic {basic}"
    if scheme.lower() != "bearer":
        raise RegistryError(f"registry asks for unsupported authentication {challenge!r}")
    params = dict(_CHALLENGE_PARAM.findall(params_text))
    realm = params.pop("realm", "")
    if not realm:
        raise RegistryError(f"registry's Bearer challenge names no realm: {challenge!r}")
    request = urllib.request.Request(f"{realm}?{urllib.parse.urlencode(params)}")
    if user:
        request.add_header("Authorization", f"Basic {basic}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.load(response)
    except (urllib.error.URLError, ValueError) as error:
        raise RegistryError(f"token request to {realm} failed: {error}") from error
    token = answer.get("token") or answer.get("access_token")
    if not token:
        raise RegistryError(f"token answer from {realm} holds no token")
    return f"Bearer {token}"
