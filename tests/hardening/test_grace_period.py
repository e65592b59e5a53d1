"""Fault 2: the grace period is derived from the server's own shutdown, in one place."""

from __future__ import annotations

import json
from pathlib import Path

from generator.load.inputschema import MODEL_SCHEMA, load_schema
from generator.render.lifecycle import (
    DEFAULT_DRAIN_SECONDS,
    DEFAULT_GRACEFUL_TIMEOUT_SECONDS,
    SHUTDOWN_MARGIN_SECONDS,
)
from serving.settings import Settings
from tests.conftest import run_cli
from tests.hardening.conftest import built, container, kind, pod, repo


def test_the_three_defaults_agree_server_schema_and_renderer() -> None:
    server = load_schema(MODEL_SCHEMA)["$defs"]["server"]["properties"]
    settings = Settings(model_path="m.onnx")
    assert server["drainSeconds"]["default"] == DEFAULT_DRAIN_SECONDS == settings.drain_seconds
    assert (
        server["gracefulTimeoutSeconds"]["default"]
        == DEFAULT_GRACEFUL_TIMEOUT_SECONDS
        == settings.graceful_timeout
    )


def test_default_pod_waits_drain_plus_graceful_timeout_plus_margin(tmp_path: Path) -> None:
    objects = built(repo(tmp_path), "dev")
    config = kind(objects, "ConfigMap", "fraud-config")["data"]
    assert (config["DRAIN_SECONDS"], config["GRACEFUL_TIMEOUT"]) == ("5", "30")
    assert SHUTDOWN_MARGIN_SECONDS == 10
    assert pod(objects)["terminationGracePeriodSeconds"] == 45


def test_a_slow_model_gets_the_grace_period_its_timeout_needs(tmp_path: Path) -> None:
    root = repo(tmp_path, spec="server: {drainSeconds: 20, gracefulTimeoutSeconds: 300}")
    for env in ("dev", "prod"):
        objects = built(root, env)
        config = kind(objects, "ConfigMap", "fraud-config")["data"]
        assert (config["DRAIN_SECONDS"], config["GRACEFUL_TIMEOUT"]) == ("20", "300")
        assert pod(objects)["terminationGracePeriodSeconds"] == 330
        # The server reads both from its ConfigMap; nothing else sets them.
        names = [e["name"] for e in container(objects, "server").get("env", [])]
        assert "DRAIN_SECONDS" not in names and "GRACEFUL_TIMEOUT" not in names


def test_config_cannot_set_the_shutdown_behind_the_grace_period(tmp_path: Path) -> None:
    root = repo(tmp_path, spec='config: {GRACEFUL_TIMEOUT: "600"}')
    outcome = run_cli("--format", "json", "validate", root=root)
    assert outcome.exit_code == 1
    assert [
        (p["file"], p["line"], p["column"], p["message"]) for p in json.loads(outcome.stderr)
    ] == [
        (
            "models/fraud/model.yaml",
            10,
            12,
            "config key 'GRACEFUL_TIMEOUT' is set by mlgitops itself",
        )
    ]


def test_out_of_range_timeouts_are_refused_at_their_field(tmp_path: Path) -> None:
    root = repo(tmp_path, spec="server: {drainSeconds: -1, gracefulTimeoutSeconds: 0}")
    outcome = run_cli("validate", root=root)
    assert outcome.exit_code == 1
    assert outcome.stderr.splitlines()[::2] == [
        "models/fraud/model.yaml:10:26: spec.server.drainSeconds: -1 is less than the minimum of 0",
        "models/fraud/model.yaml:10:54: spec.server.gracefulTimeoutSeconds: 0 is less than "
        "the minimum of 1",
    ]
