"""The one wrapper around the ``podman`` command line (Debian's podman 4.3 and catatonit).

Only what `mlgitops up` and `down` need: play a Kubernetes YAML, read container states and
logs, stop containers in a given order with a given grace period, remove a pod, and move images
from the Docker engine into Podman's storage.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from generator.errors import ExitCode, MlgitopsError

INSTALL_HINT = (
    "install Podman: `apt-get install podman catatonit slirp4netns` (Debian), then set "
    "`default_ulimits = []` under [containers] in /etc/containers/containers.conf.d/ where "
    "runc may not set RLIMIT_NOFILE (scripts/e2e/services.sh start does both)"
)


class PodmanMissing(MlgitopsError):
    """``podman`` is not installed or does not run: a missing tool (exit 2)."""

    exit_code = ExitCode.USAGE


class PodmanFailed(MlgitopsError):
    """A podman command failed; the message ends with podman's own words."""


@dataclass(frozen=True)
class ContainerState:
    """One container of a pod as ``podman inspect`` reports it."""

    name: str
    """Podman's name: ``<pod>-<container>``."""
    status: str
    """created, running, exited, ..."""
    exit_code: int
    restart_count: int
    read_only_root: bool


def binary() -> str:
    found = shutil.which("podman")
    if found is None:
        raise PodmanMissing(f"podman not found; {INSTALL_HINT}")
    return found


def run(
    args: Sequence[str], *, stdin: bytes | None = None, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """``podman ARGS``; raises PodmanFailed with podman's stderr when ``check`` and it fails."""
    command = [binary(), *args]
    try:
        done = subprocess.run(
            command,
            input=stdin.decode() if stdin is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise PodmanFailed(f"podman {' '.join(args[:2])} took over {timeout:.0f} s") from error
    except OSError as error:
        raise PodmanMissing(f"podman does not run ({error}); {INSTALL_HINT}") from error
    if check and done.returncode != 0:
        words = (done.stderr or done.stdout).strip()
        raise PodmanFailed(f"podman {' '.join(args[:2])} failed: {words}")
    return done


def check_available() -> None:
    """Raises PodmanMissing unless ``podman version`` answers."""
    done = run(["version", "--format", "{{.Client.Version}}"], check=False, timeout=60)
    if done.returncode != 0:
        raise PodmanMissing(f"podman does not run: {done.stderr.strip()}; {INSTALL_HINT}")


def image_exists(reference: str) -> bool:
    return run(["image", "exists", reference], check=False).returncode == 0


def load_image(archive: bytes) -> None:
    """``podman load`` a ``docker save`` archive (keeps the image id and tags)."""
    done = subprocess.run(
        [binary(), "load"], input=archive, capture_output=True, timeout=600, check=False
    )
    if done.returncode != 0:
        raise PodmanFailed(f"podman load failed: {done.stderr.decode(errors='replace').strip()}")


def pod_exists(name: str) -> bool:
    return run(["pod", "exists", name], check=False).returncode == 0


def containers(pod: str) -> list[ContainerState]:
    """The pod's containers (its infra container left out), in podman's order."""
    listed = run(["ps", "-a", "--filter", f"pod={pod}", "--format", "{{.Names}}"]).stdout.split()
    if not listed:
        return []
    records = cast(list[dict[str, Any]], json.loads(run(["inspect", *listed]).stdout or "[]"))
    states = []
    for record in records:
        if record.get("IsInfra"):
            continue
        state = record.get("State", {})
        host = record.get("HostConfig", {})
        states.append(
            ContainerState(
                name=str(record.get("Name", "")),
                status=str(state.get("Status", "")),
                exit_code=int(state.get("ExitCode", 0)),
                restart_count=int(record.get("RestartCount", 0)),
                read_only_root=bool(host.get("ReadonlyRootfs", False)),
            )
        )
    return states


def inspect(name: str) -> dict[str, Any]:
    records = cast(list[dict[str, Any]], json.loads(run(["inspect", name]).stdout or "[]"))
    return records[0] if records else {}


def logs(name: str, tail: int | None = None) -> str:
    args = ["logs", *(["--tail", str(tail)] if tail is not None else []), name]
    done = run(args, check=False)
    return done.stdout + done.stderr


def stop(name: str, grace_seconds: int) -> None:
    """SIGTERM (the image's stop signal), SIGKILL after ``grace_seconds``, as a kubelet does."""
    run(["stop", "--ignore", "--time", str(grace_seconds), name], timeout=grace_seconds + 60)


def remove_pod(name: str) -> None:
    run(["pod", "rm", "--force", "--ignore", name], timeout=120)


def remove_container(name: str) -> None:
    run(["rm", "--force", "--ignore", name], timeout=120)


def play(yaml_text: str, extra: Sequence[str] = ()) -> str:
    """``podman kube play`` the documents; returns podman's report."""
    return run(["kube", "play", *extra, "-"], stdin=yaml_text.encode(), timeout=300).stdout


PAGE_BYTES = 4096


def prime_volume(name: str, size_bytes: int | None, user: int, group: int, image: str) -> None:
    """Create volume ``name`` afresh as a tmpfs (``nr_blocks``: Podman takes ``size=`` for a
    project quota and refuses it), mode 0777 as a kubelet makes an emptyDir, then mount it once
    in a container that is never started, at a path no image has: Podman then chowns it to
    ``user``:``group`` and never copies an image directory into it later."""
    run(["volume", "rm", "--force", name], check=False)
    options = ["mode=0777"]
    if size_bytes is not None:
        options.append(f"nr_blocks={-(-size_bytes // PAGE_BYTES)}")
    run(
        ["volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs",
         "--opt", f"o={','.join(options)}", name]
    )  # fmt: skip
    primer = f"{name}-primer"
    run(["rm", "--force", "--ignore", primer])
    run(
        ["create", "--name", primer, "--network", "none", "--user", f"{user}:{group}",
         "--volume", f"{name}:/.mlgitops-empty-dir", image]
    )  # fmt: skip
    try:
        run(["container", "init", primer])
    finally:
        run(["rm", "--force", "--ignore", primer])


def remove_volume(name: str) -> None:
    run(["volume", "rm", "--force", name], check=False)
