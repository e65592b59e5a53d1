"""Fuzzing with hypothesis: random mutations of a valid model.yaml through the generator
(in-process, for volume), and schemathesis requests against the running server."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.cli import main
from reliability.repo import MODEL_YAML, small_repo

SPEC = (
    Path(__file__).resolve().parents[1] / "tests/serving/data/open-inference-protocol-v2-rest.yaml"
)
HOSTILE = [*":-&*!|>[]{}#%@'\"\t\n\r\x00\ufeff ,?~", "<<", "yes", "no", "0x", "1e9", ".inf"]
LOCATED = re.compile(r"^models/fraud/model\.yaml:\d+:\d+: ", re.MULTILINE)
_SETTINGS = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}


def mutate(text: str, edits: list[tuple[int, int, str]]) -> bytes:
    for position, kind, token in edits:
        at = position % (len(text) + 1)
        if kind == 0:
            text = text[:at] + token + text[at:]
        elif kind == 1:
            text = text[:at] + text[at + len(token) :]
        else:
            text = text[:at] + token + text[at + 1 :]
    return text.encode("utf-8", "surrogatepass")


def generator_mutations(root: Path, examples: int) -> dict[str, Any]:
    """Each mutated model.yaml must give exit 0, or exit 1 with located errors; never an
    exception."""
    small_repo(root)
    target = root / "models/fraud/model.yaml"
    runner = CliRunner()
    tally: Counter[str] = Counter()
    failures: list[str] = []
    edits = st.lists(
        st.tuples(st.integers(0, 10_000), st.integers(0, 2), st.sampled_from(HOSTILE)),
        min_size=1,
        max_size=6,
    )

    @settings(max_examples=examples, **_SETTINGS)  # type: ignore[arg-type]
    @given(edits)
    def run(changes: list[tuple[int, int, str]]) -> None:
        target.write_bytes(mutate(MODEL_YAML, changes))
        result = runner.invoke(main, ["--root", str(root), "validate", "--skip-build"])
        tally["cases"] += 1
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            tally["tracebacks"] += 1
            failures.append(f"{type(result.exception).__name__}: {changes!r}")
        elif result.exit_code == 1:
            tally["refused"] += 1
            if not LOCATED.search(result.stderr):
                tally["unlocated"] += 1
                failures.append(f"no located error for {changes!r}: {result.stderr[:200]}")
        elif result.exit_code == 0:
            tally["accepted"] += 1
        else:
            tally["other exit"] += 1
            failures.append(f"exit {result.exit_code} for {changes!r}")

    run()
    return {"tally": dict(tally), "failures": failures[:20]}


PREDICT_SPEC: dict[str, Any] = {
    "openapi": "3.0.0",
    "info": {"title": "mlgitops /predict", "version": "1"},
    "paths": {
        "/predict": {
            "post": {
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "instances": {
                                        "type": "array",
                                        "items": {"type": "array", "items": {"type": "number"}},
                                    }
                                },
                            }
                        }
                    },
                },
                "responses": {"200": {"description": "predictions"}},
            }
        }
    },
}


def _v2_spec() -> dict[str, Any]:
    raw: dict[str, Any] = yaml.safe_load(SPEC.read_text())
    raw["paths"] = {path.replace("${", "{"): item for path, item in raw["paths"].items()}
    return raw


def server_fuzz(base_url: str, examples: int) -> dict[str, Any]:
    """Every operation of the v2 spec and /predict, ``examples`` generated requests each;
    half of the path parameters are redirected to the served model so requests reach it."""
    statuses: Counter[str] = Counter()
    errors: list[str] = []
    operations = 0
    for raw in (_v2_spec(), PREDICT_SPEC):
        for result in schemathesis.openapi.from_dict(raw).get_all_operations():
            operation: Any = result.ok()  # type: ignore[union-attr]  # an invalid spec raises here
            operations += 1

            @settings(max_examples=examples, **_SETTINGS)  # type: ignore[arg-type]
            @given(case=operation.as_strategy(), aim=st.booleans())
            def send(case: Any, aim: bool) -> None:
                if aim and case.path_parameters:
                    case.path_parameters = {"MODEL_NAME": "iris", "MODEL_VERSION": "1"}
                response = case.call(base_url=base_url, timeout=30)
                statuses[f"{response.status_code // 100}xx"] += 1
                statuses["requests"] += 1
                if response.status_code >= 500:
                    errors.append(f"{case.method} {case.formatted_path}: {response.status_code}")

            send()
    return {"operations": operations, "statuses": dict(statuses), "errors": errors[:20]}
