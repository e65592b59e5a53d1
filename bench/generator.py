"""Generator benchmark: `python -m bench.generator` (or `make bench`).

Synthesises N models x 3 environments from the examples, then times each step end to end with
the real CLI and real kustomize, and writes bench/results/generator.{json,png}.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
BIN = Path(sys.executable).parent
MLGITOPS = str(BIN / "mlgitops")
EXAMPLE = "iris-classifier"
SIZES = (100, 300, 1000)
KV_SAMPLE_MODELS = 50


def run(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done


def timed(action: Callable[[], object], repeat: int = 1) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def synthesize(root: Path, count: int) -> None:
    """A repository with ``count`` copies of the iris example and quotas that fit them."""
    platform_data = yaml.safe_load((REPO / "environments.yaml").read_text())
    for env in platform_data["environments"]:
        env["quota"] = {"cpu": "100000", "memory": "100000Gi", "gpus": 10000, "pods": 100000}
    (root / "environments.yaml").write_text(yaml.safe_dump(platform_data, sort_keys=False))
    source = REPO / "models" / EXAMPLE
    template = (source / "model.yaml").read_text()
    for index in range(count):
        name = f"model-{index:04d}"
        folder = root / "models" / name
        folder.mkdir(parents=True)
        shutil.copy(source / "model.onnx", folder / "model.onnx")
        text = template.replace(f"name: {EXAMPLE}", f"name: {name}")
        if index % 3 == 0:
            text = text.replace("fluentd: false", "fluentd: true", 1)
        release = (source / "release.yaml").read_text().replace(EXAMPLE, name)
        if index % 5 == 0:
            text += "    prod: {accelerator: gpu}\n"
            # A GPU model's pins carry the digest of its GPU image too (prod requires it).
            gpu_digest = "sha256:" + hashlib.sha256(name.encode()).hexdigest()
            release = re.sub(
                r"(?m)^(\s+)(digest: .*)$", rf'\1\2\n\1gpuDigest: "{gpu_digest}"', release
            )
        (folder / "model.yaml").write_text(text)
        (folder / "release.yaml").write_text(release)
    run("git", "init", "-q", cwd=root)
    run("git", "add", "-A", cwd=root)
    run(
        "git",
        "-c",
        "user.name=bench",
        "-c",
        "user.email=bench@example.invalid",
        "commit",
        "-qm",
        "synthetic models",
        cwd=root,
    )


def built_objects(root: Path, models: Sequence[str]) -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for model in models:
        for env in ("dev", "staging", "prod"):
            output = run(MLGITOPS, "render", model, "--env", env, cwd=root).stdout
            objects += [o for o in yaml.safe_load_all(output) if o]
    return objects


def _core_kind(kubeschema: Any, obj: dict[str, Any]) -> bool:
    """Kubernetes' own kinds: custom resources are checked against CRD schemas instead, and
    the kubernetes-validate CLI has no schema for them."""
    try:
        kubeschema.validator_for("1.33", obj["apiVersion"], obj["kind"])
    except kubeschema.UnknownKind:
        return False
    return True


def measure_schema_validation(root: Path, count: int) -> dict[str, float]:
    """Our validator and the kubernetes-validate CLI on the same built objects."""
    from generator.verify import kubeschema

    models = [f"model-{i:04d}" for i in range(min(count, KV_SAMPLE_MODELS))]
    objects = [o for o in built_objects(root, models) if _core_kind(kubeschema, o)]
    scratch = root / "kv-objects"
    scratch.mkdir()
    files = []
    for index, obj in enumerate(objects):
        path = scratch / f"{index:05d}.yaml"
        path.write_text(yaml.safe_dump(obj))
        files.append(str(path))
    version = "1.33"
    for obj in objects:
        assert not kubeschema.object_errors(version, obj), obj
    ours = timed(lambda: [kubeschema.object_errors(version, o) for o in objects], repeat=5)
    cli = str(BIN / "kubernetes-validate")
    theirs = timed(lambda: run(cli, "--strict", "-k", version, "--quiet", *files, cwd=root))
    return {
        "objects": len(objects),
        "ours_s": ours,
        "ours_ms_per_object": 1000 * ours / len(objects),
        "kubernetes_validate_cli_s": theirs,
        "kubernetes_validate_ms_per_object": 1000 * theirs / len(objects),
        "speedup": theirs / ours,
    }


def aggregate_build(root: Path, count: int) -> float:
    """One kustomization listing every dev overlay: the layout DESIGN.md tells us to avoid."""
    aggregate = root / "aggregate"
    aggregate.mkdir()
    resources = [f"../overlays/dev/model-{i:04d}" for i in range(count)]
    (aggregate / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": resources,
            }
        )
    )
    kubectl = str(BIN / "kubectl")
    return timed(lambda: run(kubectl, "kustomize", str(aggregate), cwd=root))


def one_model_change(root: Path) -> None:
    path = root / "models" / "model-0007" / "model.yaml"
    path.write_text(path.read_text().replace("cpu: 250m", "cpu: 300m"))


def bench_size(count: int, with_aggregate: bool, with_kv: bool) -> dict[str, Any]:
    result: dict[str, Any] = {"models": count, "overlays": count * 3}
    with tempfile.TemporaryDirectory(prefix=f"mlgitops-bench-{count}-") as scratch:
        root = Path(scratch)
        synthesize(root, count)
        result["validate_no_kustomize_s"] = timed(
            lambda: run(MLGITOPS, "validate", "--skip-build", cwd=root), repeat=3
        )
        result["generate_no_kustomize_s"] = timed(
            lambda: run(MLGITOPS, "generate", "--skip-build", cwd=root)
        )
        run("git", "add", "-A", cwd=root)
        run(
            "git",
            "-c",
            "user.name=b",
            "-c",
            "user.email=b@e.invalid",
            "commit",
            "-qm",
            "gen",
            cwd=root,
        )
        result["validate_with_kustomize_s"] = timed(lambda: run(MLGITOPS, "validate", cwd=root))
        one_model_change(root)
        result["validate_changed_one_model_s"] = timed(
            lambda: run(MLGITOPS, "validate", "--changed-since", "HEAD", cwd=root), repeat=5
        )
        if with_kv:
            result["schema_validation"] = measure_schema_validation(root, count)
        if with_aggregate:
            result["aggregate_single_kustomization_s"] = aggregate_build(root, count)
    return result


STEPS = {
    "validate_no_kustomize_s": "validate, no kustomize",
    "generate_no_kustomize_s": "validate + generate, no kustomize",
    "validate_with_kustomize_s": "validate incl. kustomize of every overlay (2 cores)",
    "validate_changed_one_model_s": "validate --changed-since, one model changed",
}


def plot(results: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(8, 5))
    counts = [r["models"] for r in results]
    for key, label in STEPS.items():
        axis.plot(counts, [r[key] for r in results], marker="o", label=label)
    aggregate = [r for r in results if "aggregate_single_kustomization_s" in r]
    if aggregate:
        axis.scatter(
            [r["models"] for r in aggregate],
            [r["aggregate_single_kustomization_s"] for r in aggregate],
            marker="x",
            color="red",
            s=80,
            label="one kustomization of all models (avoided)",
        )
    axis.set_xlabel("models (x 3 environments)")
    axis.set_ylabel("seconds")
    axis.set_title("mlgitops generator: time against model count")
    axis.grid(True, alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| step | " + " | ".join(f"{r['models']} models" for r in results) + " |",
        "|---|" + "---|" * len(results),
    ]
    for key, label in STEPS.items():
        lines.append(f"| {label} | " + " | ".join(f"{r[key]:.2f} s" for r in results) + " |")
    for r in results:
        if "aggregate_single_kustomization_s" in r:
            lines.append(
                f"| one kustomize build aggregating {r['models']} models (avoided) | "
                f"{r['aggregate_single_kustomization_s']:.1f} s |"
            )
        if "schema_validation" in r:
            s = r["schema_validation"]
            lines.append(
                f"| strict schema validation, {s['objects']} objects | ours "
                f"{s['ours_ms_per_object']:.4f} ms/object; kubernetes-validate CLI "
                f"{s['kubernetes_validate_ms_per_object']:.2f} ms/object; {s['speedup']:.0f}x |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--no-aggregate", action="store_true")
    args = parser.parse_args(argv)
    sizes = sorted(args.sizes)
    # As after any non-editable install, or any first run without PYTHONDONTWRITEBYTECODE: the
    # CLI's modules are compiled once, not on every timed start.
    compileall.compile_dir(REPO / "generator", quiet=1)
    results = []
    for count in sizes:
        print(f"benchmarking {count} models x 3 environments ...", file=sys.stderr, flush=True)
        largest = count == sizes[-1]
        results.append(bench_size(count, largest and not args.no_aggregate, largest))
    RESULTS.mkdir(parents=True, exist_ok=True)
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "targets": {
            "validate_generate_no_kustomize_1000_s": 10.0,
            "incremental_one_model_s": 1.5,
            "schema_speedup_min": 20,
        },
        "results": results,
    }
    (RESULTS / "generator.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    plot(results, RESULTS / "generator.png")
    print(table(results))
    print(f"\nwrote {RESULTS / 'generator.json'} and {RESULTS / 'generator.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
