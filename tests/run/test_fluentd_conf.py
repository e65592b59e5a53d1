"""Every generated fluent.conf, and the local aggregator's, passes the real Fluentd's --dry-run
(Fluentd 1.17.1 built from ../shared/vendor by scripts/e2e/services.sh)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker
import pytest

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.run.aggregator import AGGREGATOR_CONF, FORWARD_PORT

pytestmark = pytest.mark.docker
REPO = Path(__file__).resolve().parents[2]


def generated_confs() -> dict[str, str]:
    plan = make_plan(RepoLayout(REPO))
    confs = {}
    for file in plan.files:
        # Each environment's Fluentd component generates the pods' ConfigMap from this file.
        if file.path.endswith("/fluentd/fluent.conf"):
            confs[file.path] = file.text
    return confs


def dry_run(engine: tuple[str, str], conf: str, tmp_path: Path) -> tuple[int, str]:
    """Exit code and output of ``fluentd --dry-run`` on ``conf``; ``engine``: (host, image)."""
    host, image = engine
    path = tmp_path / "fluent.conf"
    path.write_text(conf)
    path.chmod(0o644)
    tmp_path.chmod(0o755)
    client = docker.DockerClient(base_url=host)
    container = client.containers.run(
        image,
        ["-c", "/fluentd/etc/fluent.conf", "--dry-run"],
        volumes={str(path): {"bind": "/fluentd/etc/fluent.conf", "mode": "ro"}},
        network_mode="none",
        detach=True,
    )
    try:
        code = int(container.wait(timeout=120)["StatusCode"])
        return code, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)


@pytest.fixture(scope="module")
def fluentd_image(pod_services: dict[str, str]) -> tuple[str, str]:
    return pod_services["DOCKER_HOST"], pod_services["MLGITOPS_E2E_FLUENTD_IMAGE"]


def test_every_generated_environment_has_a_fluent_conf() -> None:
    assert sorted(generated_confs()) == [
        f"components/{env}/fluentd/fluent.conf" for env in ("dev", "prod", "staging")
    ]


@pytest.fixture(scope="module")
def dry_runs(
    fluentd_image: tuple[str, str], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[int, str]]:
    """Every generated conf's dry run, side by side (each Fluentd start takes seconds)."""
    confs = generated_confs()
    with ThreadPoolExecutor(max_workers=len(confs)) as pool:
        runs = pool.map(
            lambda path: dry_run(fluentd_image, confs[path], tmp_path_factory.mktemp("conf")),
            sorted(confs),
        )
        return dict(zip(sorted(confs), runs, strict=True))


@pytest.mark.parametrize("path", sorted(generated_confs()))
def test_generated_fluent_conf_passes_fluentd_dry_run(
    dry_runs: dict[str, tuple[int, str]], path: str
) -> None:
    code, logs = dry_runs[path]
    assert code == 0, logs
    assert "finished dry run mode" in logs


def test_the_local_aggregator_conf_passes_fluentd_dry_run(
    fluentd_image: tuple[str, str], tmp_path: Path
) -> None:
    code, logs = dry_run(fluentd_image, AGGREGATOR_CONF.format(port=FORWARD_PORT), tmp_path)
    assert code == 0, logs


def test_dry_run_refuses_a_broken_conf(fluentd_image: tuple[str, str], tmp_path: Path) -> None:
    code, logs = dry_run(fluentd_image, "<source>\n  @type no_such_plugin\n</source>\n", tmp_path)
    assert code != 0
    assert "no_such_plugin" in logs
