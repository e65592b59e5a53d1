"""The real server under faults: unloadable models, mismatched requests, clients that leave
or stall mid-body, SIGTERM under load with the default drain, a worker killed mid-request."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability import serverfaults


@pytest.mark.parametrize("how", ["missing", "truncated", "empty"])
def test_unloadable_model_is_live_not_ready_and_says_why(tmp_path: Path, how: str) -> None:
    assert serverfaults.unloadable_model(tmp_path, how) == []


def test_requests_that_do_not_fit_the_model_are_400(tmp_path: Path) -> None:
    sent, problems = serverfaults.mismatched_requests(tmp_path)

    assert problems == []
    assert sent == 7


def test_clients_leaving_mid_body_do_not_hurt_the_server(tmp_path: Path) -> None:
    assert serverfaults.client_disconnects(tmp_path, count=12) == []


def test_stalled_bodies_are_cut_off_and_free_the_threads(tmp_path: Path) -> None:
    assert serverfaults.slow_bodies(tmp_path, stalled=3) == []


def test_sigterm_under_load_with_the_default_drain_loses_nothing(tmp_path: Path) -> None:
    outcome = serverfaults.sigterm_under_load(tmp_path)

    assert outcome.ready_seen_503
    assert outcome.sent_before > 0
    assert (outcome.lost, outcome.failed_after, outcome.exit_code) == ([], [], 0)


def test_killed_worker_is_replaced_and_readiness_recovers(tmp_path: Path) -> None:
    assert serverfaults.worker_killed(tmp_path) == []
