"""Settings come from the public environment variable names; flags override them."""

from __future__ import annotations

from pathlib import Path

import pytest

from serving.cli import build_settings, main
from serving.errors import SettingsError
from serving.settings import settings_from_env


def test_every_public_variable_is_read() -> None:
    settings = settings_from_env(
        {
            "MODEL_NAME": "iris",
            "MODEL_VERSION": "3",
            "MODEL_PATH": "/models/model.onnx",
            "PORT": "9000",
            "GRPC_PORT": "9001",
            "CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example",
            "WORKERS": "3",
            "THREADS": "5",
            "ORT_PROVIDERS": "CUDAExecutionProvider, CPUExecutionProvider",
            "LOG_LEVEL": "warning",
            "LOG_FILE": "/var/log/serving/serving.log",
            "MAX_REQUEST_BYTES": "1024",
            "DRAIN_SECONDS": "2.5",
        }
    )
    assert (settings.model_name, settings.model_version) == ("iris", "3")
    assert settings.model_path == "/models/model.onnx"
    assert (settings.port, settings.workers, settings.threads) == (9000, 3, 5)
    assert settings.grpc_port == 9001
    assert settings.cors_allowed_origins == ("https://a.example", "https://b.example")
    assert settings.ort_providers == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert settings.log_level == "WARNING"
    assert settings.log_file == "/var/log/serving/serving.log"
    assert settings.max_request_bytes == 1024
    assert settings.drain_seconds == 2.5


def test_defaults() -> None:
    settings = settings_from_env({"MODEL_PATH": "m.onnx"})
    assert (settings.port, settings.grpc_port) == (8080, 8081)
    assert settings.cors_allowed_origins == ()
    assert settings.ort_providers == ("CPUExecutionProvider",)
    assert settings.log_file is None


def test_several_workers_get_one_onnx_runtime_thread_each_by_default() -> None:
    settings = settings_from_env({"MODEL_PATH": "m.onnx", "WORKERS": "64"})
    assert settings.ort_threads == 1


def test_flags_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_PATH", "env.onnx")
    monkeypatch.setenv("PORT", "9000")
    settings = build_settings(["--port", "9100", "--ort-providers", "A,B"])
    assert (settings.model_path, settings.port) == ("env.onnx", 9100)
    assert settings.ort_providers == ("A", "B")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param({}, "MODEL_PATH is required", id="no-model"),
        pytest.param({"MODEL_PATH": "m", "PORT": "http"}, "PORT must be a number", id="port-text"),
        pytest.param({"MODEL_PATH": "m", "PORT": "70000"}, "PORT must be between", id="port-range"),
        pytest.param({"MODEL_PATH": "m", "WORKERS": "0"}, "WORKERS must be at least 1", id="zero"),
        pytest.param(
            {"MODEL_PATH": "m", "GRPC_PORT": "8080"}, "GRPC_PORT and PORT must differ", id="same"
        ),
        pytest.param({"MODEL_PATH": "m", "GRPC_PORT": "-1"}, "GRPC_PORT must be", id="grpc"),
        pytest.param({"MODEL_PATH": "m", "LOG_LEVEL": "LOUD"}, "LOG_LEVEL must be", id="level"),
        pytest.param(
            {"MODEL_PATH": "m", "ORT_ALLOW_FALLBACK": "yes"},
            "ORT_ALLOW_FALLBACK must be true or false",
            id="fallback-not-boolean",
        ),
    ],
)
def test_invalid_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        settings_from_env(env)


@pytest.mark.parametrize(
    ("raw", "expected"), [(None, False), ("false", False), ("true", True), ("TRUE", True)]
)
def test_fallback_to_another_provider_is_off_unless_asked_for(
    raw: str | None, expected: bool
) -> None:
    env = {"MODEL_PATH": "m.onnx"} | ({"ORT_ALLOW_FALLBACK": raw} if raw else {})
    assert settings_from_env(env).allow_fallback is expected


def test_the_rendered_thread_count_wins_over_the_cpus_the_server_sees() -> None:
    env = {"MODEL_PATH": "m.onnx", "WORKERS": "1", "ORT_INTRA_OP_THREADS": "3"}
    assert settings_from_env(env).ort_threads == 3


def test_an_unwritable_metrics_dir_stops_the_server_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    # run() exports the variable for prometheus-client; monkeypatch restores it afterwards.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(blocker / "metrics"))
    monkeypatch.setenv("MODEL_PATH", str(tmp_path / "model.onnx"))
    assert main([]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mlgitops-serve: PROMETHEUS_MULTIPROC_DIR '{blocker / 'metrics'}'")
    assert "Not a directory" in err and "Traceback" not in err
