"""CPU cost per inference request of mlgitops-serve, measured so that a busy machine matters little.

    python -m bench.serving_cpu [--label NAME] [--requests N] [--seconds S] [--repeat R]
                                [--no-server] [--model-profile PATH] [--monitoring-ab]

Two measurements, both in CPU time rather than wall time, because on two shared cores CPU per
request is what limits throughput and other jobs inflate wall time but not our own CPU time:

- in-process: the WSGI app called directly, N requests per scenario, CPU microseconds per request
  (this process's user + system time), with metrics in multiprocess mode and JSON access logs
  formatted and written to /dev/null, as in production;
- server: the real `mlgitops-serve` (gunicorn) under a fixed wrk load on loopback; the CPU seconds
  that its master and workers consumed (from /proc/<pid>/stat) divided by the requests answered.

Each figure is the lowest of --repeat runs: interference from other jobs only ever adds CPU
time (cache misses, extra context switches), so the minimum is the most repeatable estimate.
Results go to bench/results/serving_cpu.json, one entry per --label, so runs before and after a
change sit side by side.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from bench.serving import MODEL_DIR, RESULTS, _stop, _wait, body, free_port

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
MODEL = MODEL_DIR / "model.onnx"
# (name, path, body) of the in-process scenarios.
V1_BODY = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}).encode()
IN_PROCESS = [
    ("v2 infer, 1 row", "/v2/models/iris/infer", body(1)),
    ("v2 infer, 64 rows", "/v2/models/iris/infer", body(64)),
    ("v1 predict, 1 row", "/v1/models/iris:predict", V1_BODY),
]
# (concurrency, rows) of the server scenarios.
UNDER_LOAD = [(1, 1), (8, 1), (32, 1), (8, 64)]

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def _environ(path: str, payload: bytes) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "POST",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "RAW_URI": path,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8080",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(payload)),
        "HTTP_HOST": "127.0.0.1:8080",
        "HTTP_USER_AGENT": "bench",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(payload),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }


def _call(app: Wsgi, path: str, payload: bytes) -> str:
    status = ""

    def start_response(s: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        nonlocal status
        status = s
        return lambda data: None

    result = app(_environ(path, payload), start_response)
    try:
        b"".join(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return status


def in_process(requests: int, repeat: int, work: Path, profile: str = "") -> dict[str, float]:
    """CPU microseconds per request through the WSGI app, per scenario."""
    # prometheus-client picks its multiprocess store when first imported.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(work / "metrics")
    (work / "metrics").mkdir()
    from serving.app import create_app
    from serving.logs import JsonFormatter
    from serving.settings import Settings

    sink = logging.StreamHandler(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as we do
    sink.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [sink]
    root.setLevel(logging.INFO)
    settings = Settings(
        model_path=str(MODEL), model_name="iris", workers=2, threads=4, model_profile=profile
    )
    app: Wsgi = create_app(settings)
    out = {}
    for name, path, payload in IN_PROCESS:
        status = _call(app, path, payload)
        if not status.startswith("200"):
            raise RuntimeError(f"{name}: {status}")
        for _ in range(min(200, requests)):
            _call(app, path, payload)
        best = float("inf")
        for _ in range(repeat):
            started = time.process_time()
            for _ in range(requests):
                _call(app, path, payload)
            best = min(best, (time.process_time() - started) / requests * 1e6)
        out[name] = best
    return out


def _cpu_seconds(pids: Iterable[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        # After the command: state is field 3, so utime (14) and stime (15) sit at 11 and 12.
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def _wrk(url: str, concurrency: int, rows: int, seconds: int, work: Path) -> tuple[int, float]:
    script = work / f"post-{rows}.lua"
    script.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body(rows).decode())}\n"
    )
    out = subprocess.run(
        ["wrk", "-t1", f"-c{concurrency}", f"-d{seconds}s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    count = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    if re.search(r"Non-2xx or 3xx responses", out):
        raise RuntimeError(f"wrk saw errors:\n{out}")
    return count, rps


def monitoring_ab(requests: int, rounds: int, work: Path, profile: str) -> dict[str, Any]:
    """CPU us per request with drift counting on and off in one process (the data plane's
    monitor swapped in and out), interleaved rounds, the queued counts flushed in each round:
    the same server, so only the monitoring differs. Lowest and median per mode."""
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(work / "ab-metrics")
    (work / "ab-metrics").mkdir()
    from serving.app import create_app
    from serving.settings import Settings

    settings = Settings(
        model_path=str(MODEL), model_name="iris", workers=2, threads=4, model_profile=profile
    )
    app: Any = create_app(settings)
    plane = app.extensions["dataplane"]
    monitor = plane.monitor
    out: dict[str, Any] = {}
    for name, path, payload in IN_PROCESS[:2]:
        for _ in range(300):
            _call(app, path, payload)
        runs: dict[str, list[float]] = {"on": [], "off": []}
        for index in range(rounds):
            for mode in ("on", "off") if index % 2 == 0 else ("off", "on"):
                plane.monitor = monitor if mode == "on" else None
                started = time.process_time()
                for _ in range(requests):
                    _call(app, path, payload)
                monitor.flush()
                runs[mode].append((time.process_time() - started) / requests * 1e6)
        low = {mode: min(values) for mode, values in runs.items()}
        out[name] = {
            "on_us": round(low["on"], 1),
            "off_us": round(low["off"], 1),
            "more_cpu": round(low["on"] / low["off"] - 1, 4),
            "on_median_us": round(sorted(runs["on"])[rounds // 2], 1),
            "off_median_us": round(sorted(runs["off"])[rounds // 2], 1),
        }
        print(f"monitoring on/off {name}: {out[name]}", flush=True)
    plane.monitor = monitor
    return out


def under_load(
    seconds: int, repeat: int, server_env: dict[str, str], work: Path
) -> dict[str, dict[str, float]]:
    """Server CPU milliseconds per request (master + workers) under wrk, per scenario."""
    port = free_port()
    env = {
        **os.environ,
        "MODEL_PATH": str(MODEL),
        "MODEL_NAME": "iris",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "GRPC_PORT": str(free_port()),
        "DRAIN_SECONDS": "0",
        "PROMETHEUS_MULTIPROC_DIR": str(work / "server-metrics"),
        **server_env,
    }
    serve = Path(sys.executable).with_name("mlgitops-serve")
    with (work / "server.log").open("wb") as log:
        process = subprocess.Popen([str(serve)], env=env, stdout=log, stderr=subprocess.STDOUT)
    out = {}
    try:
        _wait(f"http://127.0.0.1:{port}/v2/health/ready", process)
        url = f"http://127.0.0.1:{port}/v2/models/iris/infer"
        for concurrency, rows in UNDER_LOAD:
            _wrk(url, concurrency, rows, 1, work)
            pids = [process.pid, *_children(process.pid)]
            runs = []
            for _ in range(repeat):
                before = _cpu_seconds(pids)
                count, rps = _wrk(url, concurrency, rows, seconds, work)
                spent = _cpu_seconds(pids) - before
                runs.append((spent / count * 1e3, count, rps))
            cpu_ms, count, rps = min(runs)
            out[f"c={concurrency} rows={rows}"] = {
                "cpu_ms_per_request": cpu_ms,
                "requests": count,
                "requests_per_s": rps,
            }
    finally:
        _stop(process)
    return out


def _git_commit() -> str:
    done = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip()


def _table(run: dict[str, Any]) -> str:
    lines = ["in-process WSGI, CPU us/request"]
    lines += [f"  {name:24s} {us:8.1f}" for name, us in run["in_process_us"].items()]
    if run.get("server"):
        lines.append(f"server ({run['server_env']}), CPU ms/request under wrk   [req/s, noisy]")
        lines += [
            f"  {name:24s} {p['cpu_ms_per_request']:8.3f}   [{p['requests_per_s']:.0f}]"
            for name, p in run["server"].items()
        ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.serving_cpu", description=__doc__)
    parser.add_argument("--label", default="latest", help="name of this run in the JSON file")
    parser.add_argument("--requests", type=int, default=3000, help="in-process requests each")
    parser.add_argument("--seconds", type=int, default=4, help="wrk seconds per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the lowest counts")
    parser.add_argument("--no-server", action="store_true", help="in-process only")
    parser.add_argument("--workers", default="2", help="WORKERS of the server")
    parser.add_argument("--threads", default="1", help="THREADS of the server")
    parser.add_argument(
        "--model-profile", default="", help="MODEL_PROFILE: drift counting on (docs/monitoring.md)"
    )
    parser.add_argument(
        "--monitoring-ab",
        action="store_true",
        help="only: drift counting on vs off in one process (needs --model-profile)",
    )
    args = parser.parse_args(argv)
    if args.monitoring_ab:
        with tempfile.TemporaryDirectory(prefix="bench-serving-cpu-") as tmp:
            ab = monitoring_ab(args.requests, 10, Path(tmp), args.model_profile)
        path = RESULTS / "serving_cpu.json"
        results = json.loads(path.read_text()) if path.exists() else {}
        results.setdefault("runs", {})[args.label] = {
            "commit": _git_commit(),
            "load_average": os.getloadavg()[0],
            "monitoring_ab_cpu_us": ab,
        }
        path.write_text(json.dumps(results, indent=2) + "\n")
        return 0
    server_env = {"WORKERS": args.workers, "THREADS": args.threads}
    if args.model_profile:
        server_env["MODEL_PROFILE"] = args.model_profile
    with tempfile.TemporaryDirectory(prefix="bench-serving-cpu-") as tmp:
        work = Path(tmp)
        run: dict[str, Any] = {
            "commit": _git_commit(),
            "load_average": os.getloadavg()[0],
            "in_process_us": in_process(args.requests, args.repeat, work, args.model_profile),
        }
        if not args.no_server:
            run["server_env"] = server_env
            run["server"] = under_load(args.seconds, args.repeat, server_env, work)
    print(_table(run))
    path = RESULTS / "serving_cpu.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results.setdefault("runs", {})[args.label] = run
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
