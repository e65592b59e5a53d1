"""Property-based requests generated from the vendored Open Inference Protocol spec: whatever
they hold, the server never answers 5xx and its documented responses match the spec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.serving.conftest import Server

SPEC = Path(__file__).parent / "data" / "open-inference-protocol-v2-rest.yaml"


def _load_spec() -> dict[str, Any]:
    # The KServe file writes path templates as `${MODEL_NAME}`; OpenAPI's form is `{MODEL_NAME}`.
    raw: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    raw["paths"] = {path.replace("${", "{"): item for path, item in raw["paths"].items()}
    return raw


schema = schemathesis.openapi.from_dict(_load_spec())


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_server_errors(case: schemathesis.Case, iris_server: Server) -> None:
    checks = [not_a_server_error, response_schema_conformance]
    case.call_and_validate(base_url=iris_server.url, checks=checks)
    # The same request again, addressed to the model this server serves.
    if case.path_parameters:
        case.path_parameters = {"MODEL_NAME": "iris", "MODEL_VERSION": "1"}
        case.call_and_validate(base_url=iris_server.url, checks=checks)
