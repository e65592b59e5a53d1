"""Pods that really run: every example model in every environment where it is enabled, brought
up once per session by the real `mlgitops up --detach` (real images, Podman, Fluentd).

Needs root (dockerd, Podman) and Podman. Outside CI a run without them skips and says why; with
CI=true it always runs, and a missing part fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from tests.delivery.e2e_support import ci, parse_env, services

REPO = Path(__file__).resolve().parents[2]
MLGITOPS = str(Path(sys.executable).parent / "mlgitops")
UP_TIMEOUT_S = 600


@dataclass
class Pod:
    model: str
    env: str
    code: int = -1
    out: str = ""
    err: str = ""
    url: str = ""
    ready_at: float = 0.0
    sent: int = 0
    """Inference requests the tests sent to it (for the aggregator's count)."""
    fluentd: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.model}-{self.env}"


def enabled_pairs() -> list[tuple[str, str]]:
    plan = make_plan(RepoLayout(REPO))
    return sorted((d.model, d.environment.name) for d in plan.deployments)


def cli(
    *args: str, environ: dict[str, str] | None = None, timeout: float = UP_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MLGITOPS, "--root", str(REPO), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=environ,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def pod_services() -> dict[str, str]:
    """dockerd, the registry, Podman and the Fluentd image, from scripts/e2e/services.sh."""
    if not ci():
        if os.geteuid() != 0:
            pytest.skip("needs root for dockerd and Podman; CI (CI=true) always runs it")
        if shutil.which("podman") is None:
            pytest.skip(
                "needs Podman (scripts/e2e/services.sh start installs it); CI always runs it"
            )
    started = services("start")
    assert started.returncode == 0, started.stderr
    env = parse_env(started.stdout)
    assert env.get("MLGITOPS_E2E_FLUENTD_IMAGE"), started.stdout
    return env


def _up(pod: Pod, environ: dict[str, str], services_env: dict[str, str]) -> Pod:
    done = cli(
        "up", pod.model, "--env", pod.env, "--detach",
        "--base-image", services_env["MLGITOPS_E2E_BASE_IMAGE"],
        "--fluentd-image", services_env["MLGITOPS_E2E_FLUENTD_IMAGE"],
        environ=environ,
    )  # fmt: skip
    pod.code, pod.out, pod.err = done.returncode, done.stdout, done.stderr
    found = re.search(r"is ready: (http://127\.0\.0\.1:\d+)", done.stdout)
    pod.url = found[1] if found else ""
    pod.ready_at = time.monotonic()
    pod.fluentd = "aggregator" in done.stdout
    return pod


@pytest.fixture(scope="session")
def pods(pod_services: dict[str, str]) -> Iterator[dict[tuple[str, str], Pod]]:
    """Every enabled (model, environment) pod, up. Each model's first pod builds its image
    and copies it into Podman; the others then start three at a time."""
    environ = {**os.environ, **pod_services}
    pairs = enabled_pairs()
    result = {pair: Pod(*pair) for pair in pairs}
    first: dict[str, tuple[str, str]] = {}
    for pair in pairs:
        first.setdefault(pair[0], pair)
    for pair in first.values():
        _up(result[pair], environ, pod_services)
    rest = [result[pair] for pair in pairs if pair not in first.values()]
    with ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(lambda pod: _up(pod, environ, pod_services), rest))
    yield result
    for pod in result.values():
        cli("down", pod.model, "--env", pod.env, environ=environ, timeout=120)
