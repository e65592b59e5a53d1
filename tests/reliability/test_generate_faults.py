"""``mlgitops generate`` under faults: SIGKILL at random moments, concurrent runs, read-only
and full disks, a missing or broken kustomize; and no secret value in the generated tree."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from reliability import faults
from reliability.secrets import secret_scan

KILLS = 10


@pytest.fixture(scope="module")
def fixture(tmp_path_factory: pytest.TempPathFactory) -> faults.KillFixture:
    return faults.kill_fixture(tmp_path_factory.mktemp("kill"))


def test_the_changed_inputs_change_and_remove_files(fixture: faults.KillFixture) -> None:
    changed = [k for k in set(fixture.old) & set(fixture.new) if fixture.old[k] != fixture.new[k]]

    assert len(changed) > 20
    assert set(fixture.old) - set(fixture.new)


def test_sigkill_never_leaves_a_half_written_tree(
    fixture: faults.KillFixture, tmp_path: Path
) -> None:
    rng = random.Random(6)
    outcomes = [faults.kill_once(fixture, tmp_path, rng) for _ in range(KILLS)]

    assert [o.problems for o in outcomes if o.problems] == []
    assert all(o.state != "partial" for o in outcomes)


def test_concurrent_runs_are_serialised(fixture: faults.KillFixture, tmp_path: Path) -> None:
    assert faults.concurrent_runs(fixture, tmp_path, runs=4) == []


needs_root = pytest.mark.skipif(
    not faults.can_mount() and os.environ.get("CI") != "true",
    reason="mounting a tmpfs (full and read-only disks, for real) needs root",
)


@needs_root
@pytest.mark.parametrize("fault", ["read-only", "read-only-overlays", "full"])
def test_disk_fault_is_a_clear_error_and_changes_nothing(
    fixture: faults.KillFixture, tmp_path: Path, fault: str
) -> None:
    run, problems = faults.disk_fault(fixture, tmp_path, fault)

    assert problems == []
    assert faults.error_line(run) is not None


@pytest.mark.parametrize("kubectl", ["missing", "truncated"])
def test_missing_or_broken_kustomize_exits_2_with_install_hint(
    fixture: faults.KillFixture, tmp_path: Path, kubectl: str
) -> None:
    _, problems = faults.kustomize_fault(fixture, tmp_path, kubectl)

    assert problems == []


def test_generated_tree_holds_no_secret_value(tmp_path: Path) -> None:
    scanned, findings = secret_scan(tmp_path)

    assert findings == []
    assert scanned > 50
