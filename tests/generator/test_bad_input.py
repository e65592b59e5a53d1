"""What bad input gets (issue 2): every error located as ``path:line:col: message`` plus a
one-line hint on stderr, all errors of a run together, exit 1, never a traceback.

Text cases live as folders under ``cases/invalid/<case>/``: the files to lay over the default
repository (see ``conftest.build_repo``) and ``expected.txt``, the exact stderr of
``mlgitops validate``. Cases that need bytes or links are the tables below.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli
from tests.generator.conftest import (
    ARTIFACT,
    ENVIRONMENTS_YAML,
    RepoFactory,
    model_yaml,
)

CASES = Path(__file__).parent / "cases" / "invalid"
EXPECTED = "expected.txt"


def case_files(case: Path) -> dict[str, str | bytes]:
    return {
        path.relative_to(case).as_posix(): path.read_bytes()
        for path in sorted(case.rglob("*"))
        if path.is_file() and path.name != EXPECTED
    }


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c.name) for c in sorted(CASES.iterdir()) if c.is_dir()]
)
def test_invalid_case_reports_every_error_located(case: Path, make_repo: RepoFactory) -> None:
    root = make_repo(case_files(case))

    outcome = run_cli("validate", root=root)

    assert outcome.stderr == (case / EXPECTED).read_text(encoding="utf-8")
    assert outcome.exit_code == 1
    assert outcome.stdout == ""


def test_every_case_folder_has_its_expected_output() -> None:
    missing = [c.name for c in CASES.iterdir() if not (c / EXPECTED).is_file()]
    assert missing == []


def test_alias_bomb_is_refused_in_well_under_a_second(make_repo: RepoFactory) -> None:
    root = make_repo(case_files(CASES / "alias-bomb"))

    started = time.perf_counter()
    outcome = run_cli("validate", root=root)
    elapsed = time.perf_counter() - started

    assert outcome.exit_code == 1
    assert "an alias bomb?" in outcome.stderr
    assert elapsed < 1.0


MODEL = "models/fraud/model.yaml"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {MODEL: model_yaml().encode() + b"  description: caf\xe9\n"},
            f"{MODEL}:10:1: file is not valid UTF-8 (byte 0xe9 at offset 267)\n"
            "  hint: save the file as UTF-8\n",
            id="non-utf8-model",
        ),
        pytest.param(
            {"environments.yaml": ENVIRONMENTS_YAML.encode("utf-16")},
            "environments.yaml:1:1: file is not valid UTF-8 (byte 0xff at offset 0)\n"
            "  hint: save the file as UTF-8\n",
            id="utf16-environments",
        ),
        pytest.param(
            {"environments.yaml": ""},
            "environments.yaml:1:1: file is empty\n  hint: see README for an example\n",
            id="empty-environments",
        ),
        pytest.param(
            {MODEL: model_yaml(spec="config: !!python/object:os.system {A: b}")},
            f"{MODEL}:10:11: YAML tag 'tag:yaml.org,2002:python/object:os.system' is not allowed\n"
            "  hint: remove the tag; quote the value if it must be a string\n",
            id="python-object-tag-on-mapping",
        ),
        pytest.param(
            {MODEL: model_yaml(spec="config: {A: !!python/name:os.system ''}")},
            f"{MODEL}:10:15: YAML tag 'tag:yaml.org,2002:python/name:os.system' is not allowed\n"
            "  hint: remove the tag; quote the value if it must be a string\n",
            id="python-name-tag-on-scalar",
        ),
        pytest.param(
            {MODEL: model_yaml(spec="config: {A: !Ref other}")},
            f"{MODEL}:10:15: YAML tag '!Ref' is not allowed\n"
            "  hint: remove the tag; quote the value if it must be a string\n",
            id="custom-tag",
        ),
        pytest.param(
            {MODEL: model_yaml(spec="config: !!str [a]")},
            f"{MODEL}:10:11: YAML tag 'tag:yaml.org,2002:str' is not allowed\n"
            "  hint: remove the tag; quote the value if it must be a string\n",
            id="str-tag-on-sequence",
        ),
        pytest.param(
            {MODEL: model_yaml(spec="description: caf\u00e9\nconfig: {A: '\u00e9\u00e9\x07'}")},
            f"{MODEL}:11:18: invalid YAML: unacceptable character U+0007: control characters "
            "are not allowed\n"
            '  hint: remove the character, or write it as "\\x07" inside double quotes\n',
            id="control-character",
        ),
        pytest.param(
            {MODEL: model_yaml(spec="config: {A: b,")},
            f"{MODEL}:10:17: invalid YAML: did not find expected node content\n"
            "  hint: check the YAML syntax here\n",
            id="unclosed-at-end-of-file",
        ),
        pytest.param(
            {MODEL: model_yaml(spec="config: {A: *nowhere}")},
            f"{MODEL}:10:15: unknown alias *nowhere\n",
            id="unknown-alias",
        ),
    ],
)
def test_bad_bytes_and_tags(
    files: dict[str, str | bytes], expected: str, make_repo: RepoFactory
) -> None:
    root = make_repo(files)

    outcome = run_cli("validate", root=root)

    assert outcome.stderr == expected
    assert outcome.exit_code == 1


def test_artifact_symlink_leaving_the_folder_is_refused(make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: model_yaml(), "outside/model.onnx": ARTIFACT})
    artifact = root / "models/fraud/model.onnx"
    artifact.unlink()
    artifact.symlink_to(root / "outside/model.onnx")

    outcome = run_cli("validate", root=root)

    assert outcome.stderr == (
        f"{MODEL}:8:20: artifact 'model.onnx' is a link that leaves the model folder\n"
        "  hint: copy the artifact into the model folder instead of linking to it\n"
    )
    assert outcome.exit_code == 1


def test_artifact_symlink_inside_the_folder_is_fine(make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: model_yaml(), "models/fraud/weights/v1.onnx": ARTIFACT})
    artifact = root / "models/fraud/model.onnx"
    artifact.unlink()
    artifact.symlink_to("weights/v1.onnx")

    outcome = run_cli("validate", "--skip-build", root=root)

    assert (outcome.exit_code, outcome.stderr) == (0, "")


def test_missing_environments_file(make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: model_yaml()})
    (root / "environments.yaml").unlink()

    outcome = run_cli("validate", root=root)

    assert outcome.stderr == "environments.yaml:1:1: file not found\n"
    assert outcome.exit_code == 1


@pytest.mark.parametrize(
    ("transform", "label"),
    [
        pytest.param(lambda text: text.replace("\n", "\r\n"), "CRLF", id="crlf"),
        pytest.param(lambda text: "\ufeff" + text, "BOM", id="bom"),
        pytest.param(lambda text: "\ufeff" + text.replace("\n", "\r\n"), "both", id="bom-crlf"),
    ],
)
def test_crlf_and_bom_files_work(
    transform: Callable[[str], str], label: str, make_repo: RepoFactory
) -> None:
    plain = make_repo({MODEL: model_yaml(spec='config: {MODE: "fast"}')})
    expected = run_cli("render", "fraud", "--env", "dev", root=plain).stdout
    for name in ("environments.yaml", MODEL):
        path = plain / name
        path.write_bytes(transform(path.read_text(encoding="utf-8")).encode("utf-8"))

    outcome = run_cli("render", "fraud", "--env", "dev", root=plain)

    assert (outcome.exit_code, outcome.stderr) == (0, ""), label
    assert outcome.stdout == expected
    assert "  MODE: fast\n" in outcome.stdout


def test_crlf_errors_keep_their_lines(make_repo: RepoFactory) -> None:
    text = model_yaml(spec="scalling: {minReplicas: 1}").replace("\n", "\r\n")
    root = make_repo({MODEL: text.encode()})

    outcome = run_cli("validate", root=root)

    assert outcome.stderr == (
        f"{MODEL}:10:3: unknown field 'scalling' in spec\n  hint: did you mean 'scaling'?\n"
    )


def test_yaml11_words_stay_strings_in_the_configmap(make_repo: RepoFactory) -> None:
    config = "config: {FLAG: on, LEGACY: no, MODE: off, ANSWER: y, PERMS: '0777', NUL: 'null'}"
    root = make_repo({MODEL: model_yaml(spec=config)})

    assert run_cli("generate", "--skip-build", root=root).exit_code == 0
    rendered = run_cli("render", "fraud", "--env", "dev", root=root)

    base = (root / "base/fraud/kustomization.yaml").read_text(encoding="utf-8")
    for literal in ("FLAG=on", "LEGACY=no", "MODE=off", "ANSWER=y", "PERMS=0777", "NUL=null"):
        assert f'  - "{literal}"\n' in base
    # PyYAML reads YAML 1.1, like many consumers: the values must still come back as text.
    objects = [o for o in yaml.safe_load_all(rendered.stdout) if o]
    (configmap,) = [o for o in objects if o["kind"] == "ConfigMap"]
    data = configmap["data"]
    assert {k: data[k] for k in ("FLAG", "LEGACY", "MODE", "ANSWER", "PERMS", "NUL")} == {
        "FLAG": "on",
        "LEGACY": "no",
        "MODE": "off",
        "ANSWER": "y",
        "PERMS": "0777",
        "NUL": "null",
    }


def test_unquoted_yaml12_numbers_in_config_ask_for_quotes(make_repo: RepoFactory) -> None:
    root = make_repo({MODEL: model_yaml(spec="config: {PERMS: 0777, SIZE: 1e3}")})

    outcome = run_cli("validate", root=root)

    assert outcome.stderr == (
        f"{MODEL}:10:19: spec.config.PERMS: expected string, got number 777\n"
        "  hint: quote the value so YAML reads it as text\n"
        f"{MODEL}:10:31: spec.config.SIZE: expected string, got number 1000.0\n"
        "  hint: quote the value so YAML reads it as text\n"
    )
    assert outcome.exit_code == 1


def test_config_values_yaml11_misreads_in_kustomize_output_validate(
    make_repo: RepoFactory,
) -> None:
    config = "config: {EQ: '=', BIG: '1_000', TIME: '12:30', DAY: '2001-12-14'}"
    root = make_repo({MODEL: model_yaml(spec=config)})

    outcome = run_cli("validate", root=root)

    assert (outcome.exit_code, outcome.stderr) == (0, "")
