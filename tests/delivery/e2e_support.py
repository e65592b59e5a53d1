"""Helpers for the end-to-end test: the services script, a workspace repository, the CLI."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import urllib.request
from pathlib import Path

from generator.delivery.registry import MANIFEST_TYPES
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parents[2]
SERVICES = REPO / "scripts" / "e2e" / "services.sh"
WORKSPACE_INPUTS = (
    "environments.yaml",
    "serving",
    "pyproject.toml",
    "constraints.txt",
    "README.md",
)


def services(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SERVICES), command],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def parse_env(text: str) -> dict[str, str]:
    return dict(re.findall(r"^export (\w+)=(\S*)$", text, flags=re.MULTILINE))


def make_workspace(target: Path, model: str, registry: str) -> Path:
    """A repository holding one model, whose environments.yaml points at the local registry."""
    for name in (*WORKSPACE_INPUTS, f"models/{model}"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / f"models/{model}/release.yaml").unlink(missing_ok=True)
    environments = target / "environments.yaml"
    text = re.sub(r"(?m)^registry: .*$", f"registry: {registry}", environments.read_text())
    environments.write_text(text)
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["-c", "user.name=e2e", "-c", "user.email=e2e@example.com", "commit", "-qm", "e2e"],
    ):
        subprocess.run(["git", "-C", str(target), *args], check=True, capture_output=True)
    return target


def mlgitops(root: Path, *args: str) -> tuple[int, str, str]:
    """``mlgitops --root ROOT ARGS`` through the one run_cli."""
    outcome = run_cli(*args, root=root)
    return outcome.exit_code, outcome.stdout, outcome.stderr


def registry_digest(registry_address: str, repository: str, tag: str) -> str:
    request = urllib.request.Request(
        f"http://{registry_address}/v2/{repository}/manifests/{tag}",
        headers={"Accept": ", ".join(MANIFEST_TYPES)},
        method="HEAD",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return str(response.headers["Docker-Content-Digest"])


def registry_tags(registry_address: str, repository: str) -> list[str]:
    url = f"http://{registry_address}/v2/{repository}/tags/list"
    with urllib.request.urlopen(url, timeout=30) as response:
        return list(json.load(response)["tags"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def kustomize(overlay: Path) -> str:
    kubectl = shutil.which("kubectl", path=str(REPO / ".venv" / "bin")) or "kubectl"
    result = subprocess.run(
        [kubectl, "kustomize", str(overlay)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def ci() -> bool:
    return os.environ.get("CI") == "true"
