"""Image build benchmark: `python -m bench.image_build` (root; starts the e2e services).

Measures what a data scientist waits for after changing only a model's artifact: the thin
model image rebuilt on a cached runtime image, against a full build from the base image
(runtime image included, which downloads its wheels). Writes bench/results/image_build.json.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import docker

from generator.cli.build import execute_build
from generator.delivery.execute import BuildOptions
from generator.delivery.images import runtime_tag, settings_from_environment

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
SERVICES = REPO / "scripts" / "e2e" / "services.sh"
MODEL = "iris-classifier"
INPUTS = ("environments.yaml", "serving", "pyproject.toml", "constraints.txt", "README.md")


def workspace(target: Path, registry: str) -> Path:
    for name in (*INPUTS, f"models/{MODEL}"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / name)
    (target / f"models/{MODEL}/release.yaml").unlink(missing_ok=True)
    env_file = target / "environments.yaml"
    env_file.write_text(
        re.sub(r"(?m)^registry: .*$", f"registry: {registry}", env_file.read_text())
    )
    subprocess.run(["git", "init", "-q", str(target)], check=True)
    return target


def touch_artifact(root: Path, round_: int) -> None:
    """A new artifact (the same model plus trailing bytes) and its declared hash."""
    artifact = root / f"models/{MODEL}/model.onnx"
    data = (REPO / f"models/{MODEL}/model.onnx").read_bytes() + f"\n{round_}".encode()
    artifact.write_bytes(data)
    spec = root / f"models/{MODEL}/model.yaml"
    digest = hashlib.sha256(data).hexdigest()
    spec.write_text(re.sub(r'sha256: "[0-9a-f]{64}"', f'sha256: "{digest}"', spec.read_text()))


def timed_build(
    root: Path, base_image: str, push: bool, env: dict[str, str], *, no_cache: bool = False
) -> float:
    options = BuildOptions(root, (MODEL,), push=push, base_image=base_image, no_cache=no_cache)
    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    code = execute_build(options, out, err, env)
    elapsed = time.perf_counter() - start
    if code != 0:
        sys.exit(f"build failed ({code}):\n{err.getvalue()}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="incremental builds to time")
    args = parser.parse_args()
    was_up = subprocess.run([SERVICES, "status"], capture_output=True).returncode == 0
    started = subprocess.run([SERVICES, "start"], capture_output=True, text=True, check=True)
    services = dict(re.findall(r"^export (\w+)=(\S*)$", started.stdout, flags=re.MULTILINE))
    env = dict(os.environ) | services
    os.environ["DOCKER_HOST"] = services["DOCKER_HOST"]
    base = services["MLGITOPS_E2E_BASE_IMAGE"]
    try:
        with tempfile.TemporaryDirectory(prefix="mlgitops-bench-") as scratch:
            root = workspace(Path(scratch), f"{services['MLGITOPS_E2E_REGISTRY']}/bench")
            results = run(root, base, args.rounds, env)
    finally:
        if not was_up:
            subprocess.run([SERVICES, "stop"], check=True, capture_output=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "image_build.json").write_text(json.dumps(results, indent=2) + "\n")
    print_table(results)


def run(root: Path, base: str, rounds: int, env: dict[str, str]) -> dict[str, Any]:
    client = docker.from_env()
    runtime = runtime_tag(root, settings_from_environment(base, env))
    for reference in (runtime, f"{env['MLGITOPS_E2E_REGISTRY']}/bench/{MODEL}:1.0.0"):
        if any(reference in image.tags for image in client.images.list()):
            client.images.remove(reference, force=True)
    client.close()
    touch_artifact(root, 0)
    full = timed_build(root, base, False, env, no_cache=True)
    incremental, pushed = [], []
    for round_ in range(1, rounds + 1):
        touch_artifact(root, round_)
        incremental.append(timed_build(root, base, False, env))
        touch_artifact(root, 100 + round_)
        pushed.append(timed_build(root, base, True, env))
    return {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "storage_driver": docker_info("Driver"),
        "model": MODEL,
        "full_build_s": round(full, 2),
        "incremental_build_s": [round(t, 2) for t in incremental],
        "incremental_build_and_push_s": [round(t, 2) for t in pushed],
        "incremental_median_s": round(statistics.median(incremental), 2),
        "incremental_push_median_s": round(statistics.median(pushed), 2),
        "target_incremental_s": 10,
    }


def docker_info(key: str) -> str:
    client = docker.from_env()
    try:
        return str(client.info().get(key, "?"))
    finally:
        client.close()


def print_table(results: dict[str, Any]) -> None:
    rows = [
        ("full build from base (runtime + model)", f"{results['full_build_s']:.2f}"),
        ("incremental build, artifact changed (median)", f"{results['incremental_median_s']:.2f}"),
        ("incremental build + push (median)", f"{results['incremental_push_median_s']:.2f}"),
        ("target for incremental", f"{results['target_incremental_s']:.2f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'case':<{width}}  seconds   (storage driver {results['storage_driver']})")
    for name, value in rows:
        print(f"{name:<{width}}  {value:>7}")


if __name__ == "__main__":
    main()
