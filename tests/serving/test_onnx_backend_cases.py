"""A peer's test suite: a fixed sample of the ONNX backend node test cases (at least 300 served,
every protocol datatype), each sent through the real server by tritonclient (binary and JSON)
and a plain JSON client, must come back equal to the expected outputs
(`reliability.backend_cases`; `make reliability` runs all of them)."""

from __future__ import annotations

import http.client
import json
from pathlib import Path

import pytest

from reliability import backend_cases
from tests.serving.conftest import start_server

SAMPLE = 400
ALL_DATATYPES = set(backend_cases.DATATYPES.values())


@pytest.fixture(scope="module")
def cases() -> list[backend_cases.Case]:
    return backend_cases.collect()


def test_a_sample_of_the_backend_cases_comes_back_exact(
    cases: list[backend_cases.Case], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen = backend_cases.sample(cases, SAMPLE)
    outcome, skipped = backend_cases.run(chosen, tmp_path, start_server)
    with capsys.disabled():
        print("\n" + backend_cases.table(outcome, len(chosen), skipped))
    assert outcome.failures == []
    assert min(outcome.passed[client] for client in backend_cases.CLIENTS) >= 300
    assert set(outcome.by_datatype) == ALL_DATATYPES


def test_sequence_models_keep_their_clear_cannot_serve_message(
    cases: list[backend_cases.Case], tmp_path: Path
) -> None:
    case = next(c for c in cases if backend_cases.outside_protocol(c) == "sequence_type")
    path = backend_cases.save(case.model, tmp_path / "model.onnx")
    server = start_server(tmp_path, path, MODEL_NAME="cases", wait_ready=False)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        connection.request("GET", "/v2/models/cases")
        response = connection.getresponse()
        error = json.loads(response.read())["error"]
        connection.close()
        assert response.status == 503
        assert "which this server cannot serve" in error
        assert "seq(" in error
    finally:
        server.stop()
