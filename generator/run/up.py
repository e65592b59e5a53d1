"""What `mlgitops up` and `mlgitops down` do, apart from parsing their arguments.

``up``: build the model's image as `mlgitops build` does, build the overlay with real
kustomize, substitute only what cannot exist outside a cluster (generator.run.pod), play the
pod with Podman, wait for its own readinessProbe, print the URL and an inference example, then
stream the containers' logs (and the local aggregator's records) until Ctrl-C. ``down``: stop
the containers in the kubelet's order within the pod's grace period and remove everything
``up`` created. Exit codes: 0 done, 1 invalid input, failed build or a pod that does not start,
2 usage error or a missing tool.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from generator.delivery.inputs import load_model
from generator.delivery.progress import progress_for
from generator.errors import ExitCode, MlgitopsError
from generator.layout import RepoLayout
from generator.problems import InputError, format_text
from generator.run import aggregator, podman
from generator.run.images import build_model, to_podman
from generator.run.overlay import built_objects, plan_for
from generator.run.pod import Aggregator, PlayPlan, find, plan_pod
from generator.yamlout import dump_all

EXIT_OK, EXIT_INVALID = ExitCode.OK, ExitCode.INVALID
LOG_LINES = 20
KUBELET_MINIMUM_GRACE = 2
"""Seconds the kubelet grants a container however little of the grace period is left
(``minimumGracePeriodInSeconds`` in kubelet's kuberuntime_container.go)."""


@dataclass(frozen=True)
class UpOptions:
    root: Path
    model: str
    env: str
    port: int | None = None
    detach: bool = False
    base_image: str | None = None
    fluentd_image: str | None = None
    timeout: float | None = None


class PodFailed(MlgitopsError):
    """The pod did not reach ready; the message says which container or probe, and why."""


def _fail(err: TextIO, command: str, error: MlgitopsError) -> None:
    err.write(f"mlgitops {command}: {error}\n" + (f"  hint: {error.hint}\n" if error.hint else ""))


def pod_name(model: str, env: str) -> str:
    return f"{model}-{env}"


def execute_up(options: UpOptions, out: TextIO, err: TextIO, environ: Mapping[str, str]) -> int:
    try:
        plan = _prepare(options, out, err, environ)
    except InputError as error:
        err.write("".join(format_text(p) + "\n" for p in error.problems))
        _remove_quietly(pod_name(options.model, options.env))
        return EXIT_INVALID
    except MlgitopsError as error:
        _fail(err, "up", error)
        if error.exit_code != ExitCode.USAGE:
            _remove_quietly(pod_name(options.model, options.env))
        return int(error.exit_code)
    try:
        _wait_ready(plan, options.timeout)
    except MlgitopsError as error:
        _fail(err, "up", error)
        _remove_quietly(plan.pod_name)
        return int(error.exit_code)
    _say_ready(plan, options.model, out)
    if options.detach:
        return EXIT_OK
    try:
        _stream_logs(plan, out)
    except KeyboardInterrupt:
        out.write("stopping ...\n")
    _down(plan.pod_name, plan.grace_seconds, plan.stop_stages(), out)
    return EXIT_OK


def _prepare(options: UpOptions, out: TextIO, err: TextIO, environ: Mapping[str, str]) -> PlayPlan:
    layout = RepoLayout(options.root)
    plan = plan_for(layout, options.model, options.env)
    podman.check_available()
    objects = built_objects(plan, options.model, options.env)
    environment = plan.platform.environment(options.env) if plan.platform else None
    assert environment is not None
    progress = progress_for(err)
    model = load_model(options.root, options.model)
    client, reference = build_model(options.root, model, options.base_image, environ, progress)
    local = {"server": to_podman(client, reference, progress)}
    others = _other_images(objects)
    for container, built in others.items():
        wanted = (
            options.fluentd_image if container == "fluentd" and options.fluentd_image else built
        )
        local[container] = to_podman(client, wanted, progress)
    name = pod_name(options.model, options.env)
    if podman.pod_exists(name):
        out.write(f"{name} is already up: replacing it\n")
        state = _read_state(name)
        _down(name, int(state.get("grace", 30)), list(state.get("stages", [])), out)
    forward = None
    if "fluentd" in others:
        address = aggregator.start(name, local["fluentd"])
        forward = Aggregator(address, aggregator.FORWARD_PORT)
    ports = _ports(objects, options.port)
    played = plan_pod(
        objects,
        pod_name=name,
        namespace=environment.namespace,
        images=local,
        ports=ports,
        aggregator=forward,
    )
    for line in played.substitutions:
        out.write(f"substituted: {line}\n")
    for line in played.warnings:
        err.write(f"warning: {line}\n")
    for empty_dir in played.empty_dirs:
        podman.prime_volume(
            empty_dir.volume, empty_dir.size_bytes, empty_dir.user, empty_dir.group, local["server"]
        )
    _write_state(played)
    podman.play(dump_all(played.documents))
    return played


def _other_images(objects: list[dict[str, Any]]) -> dict[str, str]:
    """Container name -> built image, for every container but the server."""
    spec = find(objects, "Deployment")[0]["spec"]["template"]["spec"] if objects else {}
    return {
        c["name"]: c["image"]
        for c in [*spec.get("initContainers", []), *spec.get("containers", [])]
        if c["name"] != "server"
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ports(objects: list[dict[str, Any]], http: int | None) -> dict[str, int]:
    """Every containerPort of the server gets a host port; ``http`` the one asked for."""
    spec = find(objects, "Deployment")[0]["spec"]["template"]["spec"]
    server = next(c for c in spec["containers"] if c["name"] == "server")
    ports = {}
    for port in server.get("ports", []):
        key = str(port.get("name") or port["containerPort"])
        ports[key] = http if key == "http" and http else _free_port()
    return ports


def _state_file(pod: str) -> Path:
    return Path(tempfile.gettempdir()) / "mlgitops-up" / pod / "state.json"


def _write_state(plan: PlayPlan) -> None:
    state = {
        "grace": plan.grace_seconds,
        "stages": plan.stop_stages(),
        "http": plan.http_port,
        "volumes": [d.volume for d in plan.empty_dirs] + plan.config_map_volumes(),
    }
    path = _state_file(plan.pod_name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state), encoding="utf-8")


def _probe_once(plan: PlayPlan, probe: dict[str, Any]) -> str | None:
    """None when the probe passes, else what it saw."""
    get = probe.get("httpGet", {})
    url = f"http://127.0.0.1:{plan.http_port}{get.get('path', '/')}"
    try:
        with urllib.request.urlopen(url, timeout=probe.get("timeoutSeconds", 1)) as answer:
            status = int(answer.status)
    except urllib.error.HTTPError as error:
        status = error.code
    except (OSError, urllib.error.URLError) as error:
        return f"GET {url}: {getattr(error, 'reason', error)}"
    return None if 200 <= status < 400 else f"GET {url}: HTTP {status}"


def _budget(plan: PlayPlan, timeout: float | None) -> float:
    if timeout is not None:
        return timeout
    startup = plan.startup
    return float(
        startup.get("initialDelaySeconds", 0)
        + startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3)
        + plan.readiness.get("periodSeconds", 10)
    )


def _wait_ready(plan: PlayPlan, timeout: float | None) -> None:
    """Poll the readinessProbe (every second rather than every periodSeconds, so `up` returns
    sooner; the check itself is the probe's) until it passes; raise PodFailed when a container
    exits or restarts first, or when the budget runs out."""
    budget = _budget(plan, timeout)
    deadline = time.monotonic() + budget
    last = "not probed yet"
    while time.monotonic() < deadline:
        _check_containers(plan)
        outcome = _probe_once(plan, plan.readiness)
        if outcome is None:
            _check_containers(plan)  # a sidecar may have failed while the server got ready
            return
        last = outcome
        time.sleep(1)
    message = (
        f"readinessProbe of container server not passed within {budget:.0f} s; last result: {last}"
    )
    # The server says why it is not ready (a model that did not load, a provider missing).
    lines = podman.logs(f"{plan.pod_name}-server", LOG_LINES).rstrip()
    if lines:
        message += f"\nits last {LOG_LINES} log lines:\n{lines}"
    raise PodFailed(message)


def _check_containers(plan: PlayPlan) -> None:
    for state in podman.containers(plan.pod_name):
        if state.status in ("running", "created", "initialized") and not state.restart_count:
            continue
        lines = _last_lines(state.name)
        if state.status == "running":
            # Podman resets the exit code when it restarts the container.
            what = f"restarted {state.restart_count} times"
        else:
            what = f"{state.status} with exit code {state.exit_code}"
        raise PodFailed(
            f"container {state.name} {what} during start; its last {LOG_LINES} log lines:\n{lines}"
        )


def _last_lines(container: str) -> str:
    """The container's last log lines; Podman stores them a moment after the exit it reports."""
    lines = ""
    for _ in range(10):
        lines = podman.logs(container, LOG_LINES).rstrip()
        if lines:
            break
        time.sleep(0.3)
    return lines


def _say_ready(plan: PlayPlan, model: str, out: TextIO) -> None:
    base = f"http://127.0.0.1:{plan.http_port}"
    out.write(f"{plan.pod_name} is ready: {base}\n")
    for name, port in plan.ports.items():
        if name != "http":
            out.write(f"  {name}: 127.0.0.1:{port}\n")
    example = _inference_example(base, model)
    if example:
        out.write(f"try:\n  {example}\n")


def _inference_example(base: str, model: str) -> str:
    """A curl command with zeros of the model's own input shapes (from its metadata)."""
    try:
        with urllib.request.urlopen(f"{base}/v2/models/{model}", timeout=5) as answer:
            metadata = json.load(answer)
    except (OSError, ValueError):
        return ""
    inputs = []
    for tensor in metadata.get("inputs", []):
        shape = [1 if int(d) < 0 else int(d) for d in tensor.get("shape", [])]
        count = 1
        for dimension in shape:
            count *= dimension
        zero = 0.0 if str(tensor.get("datatype", "")).startswith("FP") else 0
        inputs.append(
            {
                "name": tensor["name"],
                "datatype": tensor["datatype"],
                "shape": shape,
                "data": [zero] * count,
            }
        )
    body = json.dumps({"inputs": inputs}, separators=(",", ":"))
    return f"curl -s -H 'Content-Type: application/json' -d '{body}' {base}/v2/models/{model}/infer"


def _stream_logs(plan: PlayPlan, out: TextIO) -> None:
    """Both containers' logs and the aggregator's records, prefixed, until Ctrl-C."""
    names = [f"{plan.pod_name}-{c}" for c in [*plan.sidecars, *plan.main_containers]]
    if plan.sidecars or any(c == "fluentd" for c in plan.main_containers):
        names.append(aggregator.container_name(plan.pod_name))
    lock = threading.Lock()
    processes = []
    for name in names:
        process = subprocess.Popen(
            [podman.binary(), "logs", "--follow", name],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        processes.append(process)
        threading.Thread(target=_copy, args=(process, name, out, lock), daemon=True).start()
    try:
        while any(p.poll() is None for p in processes):
            time.sleep(0.5)
    finally:
        for process in processes:
            process.terminate()


def _copy(process: subprocess.Popen[str], name: str, out: TextIO, lock: threading.Lock) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        with lock:
            out.write(f"{name} | {line}")
            out.flush()


def execute_down(model: str, env: str, out: TextIO, err: TextIO) -> int:
    name = pod_name(model, env)
    try:
        podman.check_available()
        state = _read_state(name)
        if not podman.pod_exists(name) and not state:
            out.write(f"{name} is not up\n")
            _remove_quietly(name)
            return EXIT_OK
        _down(name, int(state.get("grace", 30)), list(state.get("stages", [])), out)
    except MlgitopsError as error:
        _fail(err, "down", error)
        return int(error.exit_code)
    return EXIT_OK


def _read_state(pod: str) -> dict[str, Any]:
    try:
        return dict(json.loads(_state_file(pod).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def _down(pod: str, grace: int, stages: list[list[str]], out: TextIO) -> None:
    """Stop the main containers together (SIGTERM, SIGKILL after the grace period), then the
    native sidecars one by one in reverse start order with what is left of the grace period
    (at least the kubelet's minimum), then remove the pod and the aggregator."""
    started = time.monotonic()
    for stage in stages:
        left = max(KUBELET_MINIMUM_GRACE, round(grace - (time.monotonic() - started)))
        names = [f"{pod}-{c}" for c in stage]
        podman.run(["stop", "--ignore", "--time", str(left), *names], timeout=left + 60)
    if podman.pod_exists(pod):
        podman.run(["pod", "stop", "--ignore", "--time", str(grace), pod], timeout=grace + 60)
    kept = _remove(pod)
    out.write(
        f"{pod} is down" + (f"; the aggregator's records are in {kept}" if kept else "") + "\n"
    )


def _remove(pod: str) -> Path | None:
    """Remove the pod, then the aggregator (the sidecar has flushed by then), keeping the
    aggregator's records in a file beside the state; returns that file, if any."""
    volumes = _read_state(pod).get("volumes", [])
    podman.remove_pod(pod)
    for volume in volumes:
        podman.remove_volume(volume)
    kept = None
    if aggregator.exists(pod):
        kept = _state_file(pod).with_name("records.jsonl")
        lines = [json.dumps(record) + "\n" for record in aggregator.records(pod)]
        kept.write_text("".join(lines), encoding="utf-8")
        aggregator.stop(pod)
    _state_file(pod).unlink(missing_ok=True)
    return kept


def _remove_quietly(pod: str) -> None:
    """Leave nothing behind after a failed start; a second failure would hide the first."""
    with contextlib.suppress(podman.PodmanFailed):
        _remove(pod)
