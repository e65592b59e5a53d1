"""LOG_FILE rotates by size (LOG_MAX_BYTES), safely across gunicorn's worker processes.

That Fluentd's tail source follows the rotation without loss or duplicates is proven with the
real Fluentd in tests/run/test_pods.py (the log volume test).
"""

from __future__ import annotations

import json
import logging
import multiprocessing
from pathlib import Path

import pytest

from serving.logs import SizeRotatingFileHandler, logging_config
from serving.settings import SettingsError, settings_from_env

LINE = "x" * 200


def _write(path: str, max_bytes: int, writer: int, count: int) -> None:
    handler = SizeRotatingFileHandler(path, max_bytes)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for index in range(count):
        record = logging.LogRecord("t", logging.INFO, "", 0, f"{writer}:{index}:{LINE}", None, None)
        handler.emit(record)
    handler.close()


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def test_one_writer_rotates_at_the_size_and_loses_nothing_between_the_two_files(
    tmp_path: Path,
) -> None:
    log = tmp_path / "server.log"
    max_bytes = 10_000
    _write(str(log), max_bytes, 0, 120)  # about 25 KB: two rotations
    current, previous = _lines(log), _lines(Path(f"{log}.1"))
    assert previous and current
    assert Path(f"{log}.1").stat().st_size < max_bytes + len(LINE) + 20
    numbers = [int(line.split(":")[1]) for line in previous + current]
    assert numbers == list(range(numbers[0], 120))  # consecutive up to the last line
    assert not (tmp_path / "server.log.2").exists()


def test_several_processes_never_let_the_files_grow_past_the_size(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    max_bytes = 20_000
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_write, args=(str(log), max_bytes, w, 400)) for w in range(4)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(60)
        assert writer.exitcode == 0
    slack = 4 * (len(LINE) + 20)  # a line per writer that had not seen the rotation yet
    for path in (log, Path(f"{log}.1")):
        assert path.stat().st_size <= max_bytes + slack
        for line in _lines(path):
            assert line.endswith(LINE)  # no torn lines


def test_without_a_size_nothing_rotates(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    _write(str(log), 0, 0, 200)
    assert len(_lines(log)) == 200
    assert not Path(f"{log}.1").exists()


def test_the_setting_reaches_the_file_handler() -> None:
    settings = settings_from_env(
        {"MODEL_PATH": "m.onnx", "LOG_FILE": "/l/s.log", "LOG_MAX_BYTES": "4096"}
    )
    assert settings.log_max_bytes == 4096
    config = logging_config("INFO", settings.log_file, settings.log_max_bytes)
    assert config["handlers"]["file"]["max_bytes"] == 4096
    assert json.dumps(config)  # dictConfig documents stay plain data


def test_a_negative_size_is_refused() -> None:
    with pytest.raises(SettingsError, match="LOG_MAX_BYTES"):
        settings_from_env({"MODEL_PATH": "m.onnx", "LOG_MAX_BYTES": "-1"})
