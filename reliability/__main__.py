"""The long reliability campaign (``make reliability``): many cases of each class against
the real generator and server; writes docs/reliability.md with the figures.

    python -m reliability [--kills 200] [--soak-seconds 300] [--fuzz-examples 300] ...
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reliability import backend_cases, faults, serverfaults
from reliability.corpus import cases, check_case
from reliability.fuzz import generator_mutations, server_fuzz
from reliability.repo import REPO
from reliability.report import report
from reliability.secrets import secret_scan
from reliability.soak import soak
from tests.serving.conftest import start_server


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Campaign:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.figures: dict[str, Any] = {}
        self.failures: list[str] = []
        self._n = 0

    def scratch(self) -> Path:
        self._n += 1
        path = self.work / f"s{self._n}"
        path.mkdir()
        return path

    def fail(self, where: str, problems: list[str]) -> None:
        self.failures += [f"{where}: {p}" for p in problems]


def corpus(c: Campaign, rounds: int) -> None:
    per_kind: Counter[str] = Counter()
    tracebacks = 0
    worst: list[tuple[float, int, str]] = []
    for _ in range(rounds):
        for case in cases():
            run, wrong = check_case(case, c.scratch())
            per_kind[case.kind] += 1
            tracebacks += run.traceback
            c.fail(f"corpus {case.name}", wrong)
            if case.error:
                worst.append((run.seconds, run.max_rss_kib, case.name))
    worst.sort(reverse=True)
    c.figures["corpus"] = {
        "cases": dict(per_kind),
        "total": sum(per_kind.values()),
        "distinct": len(cases()),
        "tracebacks": tracebacks,
        "slowest_rejections": worst[:3],
        "max_rss_mib": round(max(rss for _, rss, _ in worst) / 1024, 1),
    }


def kills(c: Campaign, runs: int, seed: int) -> None:
    fixture = faults.kill_fixture(c.scratch())
    rng = random.Random(seed)
    states: Counter[str] = Counter()
    bad = 0
    work = c.scratch()
    for index in range(runs):
        outcome = faults.kill_once(fixture, work, rng)
        states[outcome.state] += 1
        bad += bool(outcome.problems)
        c.fail(f"kill {index} at {outcome.delay:.2f}s", outcome.problems)
        if index % 20 == 19:
            log(f"  {index + 1} kills: {dict(states)}")
    c.figures["kills"] = {
        "runs": runs,
        "states": dict(states),
        "partial_writes": bad,
        "generate_seconds": {
            "with builds": round(fixture.seconds[True], 2),
            "--skip-build": round(fixture.seconds[False], 2),
        },
    }
    concurrent = [faults.concurrent_runs(fixture, c.scratch(), runs=4) for _ in range(5)]
    for problems in concurrent:
        c.fail("concurrent generate", problems)
    c.figures["concurrent"] = {
        "rounds": 5,
        "runs_per_round": 4,
        "failed_rounds": sum(bool(p) for p in concurrent),
    }
    disk: dict[str, str] = {}
    if faults.can_mount():
        for fault in ("read-only", "read-only-overlays", "full"):
            run, problems = faults.disk_fault(fixture, c.scratch(), fault)
            c.fail(f"disk {fault}", problems)
            disk[fault] = f"exit {run.exit_code}: {faults.error_line(run)}"
    c.figures["disk"] = disk
    kube: dict[str, str] = {}
    for kubectl in ("missing", "not-executable", "truncated", "failing"):
        run, problems = faults.kustomize_fault(fixture, c.scratch(), kubectl)
        c.fail(f"kustomize {kubectl}", problems)
        kube[kubectl] = f"exit {run.exit_code}"
    c.figures["kustomize"] = kube


def secrets(c: Campaign) -> None:
    scanned, findings = secret_scan(c.scratch())
    c.fail("secret scan", findings)
    c.figures["secrets"] = {"files": scanned, "findings": len(findings)}


def mutations(c: Campaign, examples: int) -> None:
    result = generator_mutations(c.scratch() / "repo", examples)
    c.fail("mutation fuzz", result["failures"])
    c.figures["mutations"] = result["tally"]


def server(c: Campaign, fuzz_examples: int, disconnects: int, sigterm_runs: int) -> None:
    for how in ("missing", "truncated", "garbage", "empty"):
        c.fail(f"model {how}", serverfaults.unloadable_model(c.scratch(), how))
    sent, problems = serverfaults.mismatched_requests(c.scratch())
    c.fail("mismatched requests", problems)
    c.fail("disconnects", serverfaults.client_disconnects(c.scratch(), disconnects))
    c.fail("slow bodies", serverfaults.slow_bodies(c.scratch(), stalled=6))
    for _ in range(3):
        c.fail("worker killed", serverfaults.worker_killed(c.scratch()))
    outcomes = [serverfaults.sigterm_under_load(c.scratch()) for _ in range(sigterm_runs)]
    for o in outcomes:
        c.fail("sigterm", o.lost + o.failed_after + ([] if o.exit_code == 0 else ["exit"]))
    c.figures["server_faults"] = {
        "unloadable models": 4,
        "mismatched requests": sent,
        "mid-body disconnects": disconnects,
        "stalled bodies": 6,
        "workers killed": 3,
    }
    c.figures["sigterm"] = {
        "runs": sigterm_runs,
        "sent_before": sum(o.sent_before for o in outcomes),
        "lost": sum(len(o.lost) for o in outcomes),
        "failed_during_drain": sum(len(o.failed_after) for o in outcomes),
    }
    tmp = c.scratch()
    running = start_server(tmp, serverfaults.IRIS, WORKERS="2", THREADS="2")
    try:
        fuzz = server_fuzz(running.url, fuzz_examples)
    finally:
        running.stop()
    c.fail("schemathesis", fuzz["errors"])
    c.figures["fuzz"] = fuzz


def onnx_backend_cases(c: Campaign) -> None:
    """Every ONNX backend node case ONNX Runtime runs in-process, through the server."""
    cases = backend_cases.collect()
    outcome, skipped = backend_cases.run(cases, c.scratch(), start_server)
    print(backend_cases.table(outcome, len(cases), skipped), file=sys.stderr, flush=True)
    c.fail("onnx backend cases", outcome.failures)
    c.figures["backend_cases"] = {
        "generated": len(cases),
        "passed": dict(outcome.passed),
        "by_datatype": dict(outcome.by_datatype),
        "skipped": dict(skipped),
    }


def soak_phase(c: Campaign, seconds: int) -> None:
    result = soak(c.scratch(), seconds)
    if result["errors"]:
        c.failures.append(f"soak: {result['errors']} errors")
    if result["growth"] > result["growth_bound"]:
        c.failures.append(f"soak: RSS grew {result['growth']:.0%}")
    c.figures["soak"] = result


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--corpus-rounds", type=int, default=3)
    parser.add_argument("--mutations", type=int, default=2000)
    parser.add_argument("--fuzz-examples", type=int, default=300)
    parser.add_argument("--disconnects", type=int, default=200)
    parser.add_argument("--sigterm-runs", type=int, default=3)
    parser.add_argument("--soak-seconds", type=int, default=300)
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--output", type=Path, default=REPO / "docs" / "reliability.md")
    args = parser.parse_args()
    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="mlgitops-reliability-"))
    campaign = Campaign(work)
    phases: list[tuple[str, Callable[[], None]]] = [
        ("hostile files", lambda: corpus(campaign, args.corpus_rounds)),
        ("mutations", lambda: mutations(campaign, args.mutations)),
        ("secrets", lambda: secrets(campaign)),
        ("kills and faults", lambda: kills(campaign, args.kills, args.seed)),
        (
            "server faults and fuzzing",
            lambda: server(campaign, args.fuzz_examples, args.disconnects, args.sigterm_runs),
        ),
        ("onnx backend cases", lambda: onnx_backend_cases(campaign)),
        ("soak", lambda: soak_phase(campaign, args.soak_seconds)),
    ]
    try:
        for name, phase in phases:
            log(f"{name} ...")
            phase()
            log(f"{name}: {len(campaign.failures)} failed checks so far")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(campaign.figures, campaign.failures, vars(args), time.monotonic() - started)
    args.output.write_text(text.replace(str(work), "<scratch>"))
    log(f"wrote {args.output}; {len(campaign.failures)} failed checks")
    return 1 if campaign.failures else 0


if __name__ == "__main__":
    sys.exit(main())
