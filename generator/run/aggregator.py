"""A local Fluentd aggregator standing in for the environment's: it accepts what the pod's
sidecar forwards and prints every record as one JSON line, so a data scientist sees exactly
what their pod ships (and tests read the same lines)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from generator.run import podman

FORWARD_PORT = 24224
AGGREGATOR_CONF = """<system>
  log_level warn
</system>

<source>
  @type forward
  bind 0.0.0.0
  port {port}
</source>

<match **>
  @type stdout
  <format>
    @type json
  </format>
</match>
"""


def container_name(pod: str) -> str:
    return f"{pod}-aggregator"


def start(pod: str, image: str) -> str:
    """Run the aggregator on Podman's default network (read-only root, /tmp in memory);
    returns its address as the pod reaches it. Raises podman.PodmanFailed."""
    name = container_name(pod)
    podman.remove_container(name)
    directory = Path(tempfile.gettempdir()) / "mlgitops-up" / pod
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "aggregator.conf"
    conf.write_text(AGGREGATOR_CONF.format(port=FORWARD_PORT), encoding="utf-8")
    conf.chmod(0o644)
    directory.chmod(0o755)
    podman.run(
        [
            "run", "--detach", "--name", name, "--read-only",
            "--tmpfs", "/tmp:rw,size=16m,mode=1777",
            "--volume", f"{conf}:/fluentd/etc/fluent.conf:ro",
            image, "-c", "/fluentd/etc/fluent.conf", "--no-supervisor",
        ]
    )  # fmt: skip
    address = podman.inspect(name).get("NetworkSettings", {}).get("IPAddress", "")
    if not address:
        raise podman.PodmanFailed(f"the aggregator {name} has no address on Podman's network")
    return str(address)


def records(pod: str) -> list[dict[str, Any]]:
    """Every record the aggregator has printed so far."""
    found = []
    for line in podman.logs(container_name(pod)).splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return found


def stop(pod: str) -> None:
    podman.stop(container_name(pod), 10)
    podman.remove_container(container_name(pod))


def exists(pod: str) -> bool:
    done = podman.run(["container", "exists", container_name(pod)], check=False)
    return done.returncode == 0
