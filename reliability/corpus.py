"""Hostile input files, each with the outcome a user must see: a located error naming the
file, or a faithful result. Every case runs the real CLI in its own process.

A case builds its repository itself (links and raw bytes included) and says which command to
run; ``check_case`` returns what went wrong, so the fast tests assert an empty list and the
campaign counts them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from reliability.repo import (
    ARTIFACT,
    ARTIFACT_SHA256,
    ENVIRONMENTS_YAML,
    MODEL_YAML,
    CliRun,
    run_cli,
    small_repo,
)

MODEL = "models/fraud/model.yaml"
ENVS = "environments.yaml"
VALIDATE = ("validate", "--skip-build")
RENDER = ("render", "fraud", "--env", "dev")


@dataclass(frozen=True)
class Case:
    name: str
    kind: str
    build: Callable[[Path], None]
    error: str = ""
    """Empty: the run must succeed. Else a regex the located error message must match."""
    file: str = MODEL
    args: tuple[str, ...] = VALIDATE
    faithful: Callable[[CliRun, Path], list[str]] | None = None
    outside: tuple[str, ...] = field(default_factory=tuple)
    """Paths (relative to the scratch folder) that must not exist afterwards."""


def _model(spec_extra: str = "", **replace: str) -> str:
    text = MODEL_YAML + "".join(f"  {line}\n" for line in spec_extra.splitlines())
    for old, new in replace.items():
        text = text.replace(old, new)
    return text


def _files(files: dict[str, str | bytes]) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        small_repo(root, files)

    return build


def _alias_bomb(levels: int = 9) -> str:
    lines = ["lol0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for level in range(1, levels):
        refs = ", ".join([f"*a{level - 1}"] * 10)
        lines.append(f"lol{level}: &a{level} [{refs}]")
    return "\n".join(lines) + "\n"


def _symlinked_artifact(target: str) -> Callable[[Path], None]:
    def build(root: Path) -> None:
        small_repo(root)
        artifact = root / "models/fraud/model.onnx"
        artifact.unlink()
        artifact.symlink_to(target)

    return build


def _model_folder_outside(root: Path) -> None:
    """models/fraud is a link to a complete, valid model folder outside the repository."""
    outside = root.parent / "outside-model"
    small_repo(root)
    outside.mkdir(exist_ok=True)
    (outside / "model.yaml").write_text(MODEL_YAML)
    (outside / "model.onnx").write_bytes(ARTIFACT)
    for entry in (root / "models/fraud").iterdir():
        entry.unlink()
    (root / "models/fraud").rmdir()
    (root / "models/fraud").symlink_to(outside)


def _model_file_outside(root: Path) -> None:
    outside = root.parent / "outside-model.yaml"
    small_repo(root)
    outside.write_text(MODEL_YAML)
    (root / MODEL).unlink()
    (root / MODEL).symlink_to(outside)


def _config_strings(run: CliRun, root: Path) -> list[str]:
    """The built ConfigMap, read back by a YAML 1.1 loader, keeps every value a string."""
    maps = [
        o
        for o in yaml.safe_load_all(run.stdout)
        if isinstance(o, dict) and o.get("kind") == "ConfigMap"
    ]
    data = maps[0]["data"] if maps else {}
    wanted = {"A": "NO", "B": "on", "C": "y", "D": "off", "E": "1.0", "F": "0o17", "G": "~"}
    return [
        f"config {key}: built ConfigMap holds {data.get(key)!r}, not {value!r}"
        for key, value in wanted.items()
        if data.get(key) != value
    ]


def _spec_survives(run: CliRun, root: Path) -> list[str]:
    built = [o for o in yaml.safe_load_all(run.stdout) if isinstance(o, dict)]
    kinds = {o.get("kind") for o in built}
    return [] if "Deployment" in kinds else [f"no Deployment built: {sorted(map(str, kinds))}"]


BOOLEANS = 'config: {A: NO, B: on, C: y, D: off, E: "1.0", F: "0o17", G: "~"}'
UTF8_MODEL = MODEL_YAML.replace("  owner: team-risk\n", '  owner: team-risk\n  description: "é"\n')


def cases() -> list[Case]:
    deep_flow = "x: " + "[" * 5000 + "]" * 5000 + "\n"
    deep_block = "".join("  " * i + f"k{i}:\n" for i in range(200)) + "  " * 200 + "v: 1\n"
    return [
        # -- YAML structure
        Case("alias-bomb-model", "yaml", _files({MODEL: _alias_bomb()}), "alias bomb"),
        Case("alias-bomb-environments", "yaml", _files({ENVS: _alias_bomb()}), "alias bomb", ENVS),
        Case("alias-bomb-deep", "yaml", _files({MODEL: _alias_bomb(30)}), "alias bomb"),
        Case("nesting-flow-5000", "yaml", _files({MODEL: deep_flow}), "nests deeper than 64"),
        Case("nesting-block-200", "yaml", _files({MODEL: deep_block}), "nests deeper than 64"),
        Case(
            "scalar-10mb",
            "size",
            _files({MODEL: MODEL_YAML + "  x: " + "a" * (10 * 1024 * 1024) + "\n"}),
            "inputs may be at most 1048576 bytes",
        ),
        Case(
            "scalar-just-under-1mib",
            "size",
            _files({MODEL: MODEL_YAML.replace("owner: team-risk", "owner: " + "a" * 1040000)}),
            "is too long|does not match|should be non-empty|maxLength",
        ),
        Case(
            "flow-brackets-1mib",
            "size",
            _files({MODEL: "[" * (1024 * 1024 - 1)}),
            "nests deeper than 64",
        ),
        Case(
            "tag-python-object-apply",
            "tags",
            _files(
                {MODEL: MODEL_YAML + '  x: !!python/object/apply:os.system ["touch ../pwned"]\n'}
            ),
            "YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not allowed",
            outside=("pwned",),
        ),
        Case(
            "tag-python-object",
            "tags",
            _files({MODEL: MODEL_YAML + "  x: !!python/object:collections.OrderedDict {}\n"}),
            "YAML tag .* is not allowed",
        ),
        Case("tag-local", "tags", _files({MODEL: "!Model\n" + MODEL_YAML}), "YAML tag '!Model'"),
        Case(
            "tag-binary",
            "tags",
            _files({MODEL: MODEL_YAML + "  x: !!binary aGVsbG8=\n"}),
            "YAML tag .*binary",
        ),
        Case(
            "tag-int-on-string",
            "tags",
            _files({MODEL: MODEL_YAML.replace('version: "1.0.0"', "version: !!int 1")}),
            "YAML tag .*int",
        ),
        Case(
            "multi-document",
            "yaml",
            _files({MODEL: MODEL_YAML + "---\n" + MODEL_YAML}),
            "more than one",
        ),
        Case(
            "duplicate-key",
            "yaml",
            _files({MODEL: MODEL_YAML + "  version: '2.0.0'\n"}),
            "duplicate key 'version'",
        ),
        Case(
            "merge-key",
            "yaml",
            _files({MODEL: MODEL_YAML + "  x: {<<: {a: 1}}\n"}),
            "merge keys",
        ),
        Case(
            "complex-key",
            "yaml",
            _files({MODEL: MODEL_YAML + "  ? [a, b]\n  : 1\n"}),
            "plain strings",
        ),
        Case("empty", "yaml", _files({MODEL: "# nothing\n\n"}), "file is empty"),
        # -- bytes and encodings
        Case(
            "latin-1",
            "encoding",
            _files({MODEL: UTF8_MODEL.encode("utf-8").replace("é".encode(), b"\xe9")}),
            r"not valid UTF-8 \(byte 0xe9",
        ),
        Case(
            "utf-16-with-bom",
            "encoding",
            _files({MODEL: MODEL_YAML.encode("utf-16")}),
            "not valid UTF-8",
        ),
        Case("nul-byte", "encoding", _files({MODEL: MODEL_YAML + "  x: a\x00b\n"}), "invalid YAML"),
        Case(
            "random-bytes",
            "encoding",
            _files({MODEL: bytes(range(256)) * 4}),
            "not valid UTF-8|invalid YAML",
        ),
        Case(
            "tab-indentation",
            "encoding",
            _files({MODEL: MODEL_YAML.replace("  resources:", "\tresources:")}),
            "invalid YAML",
        ),
        Case(
            "utf-8-bom",
            "encoding",
            _files({MODEL: b"\xef\xbb\xbf" + UTF8_MODEL.encode()}),
            args=RENDER,
            faithful=_spec_survives,
        ),
        Case(
            "crlf",
            "encoding",
            _files(
                {
                    MODEL: UTF8_MODEL.replace("\n", "\r\n"),
                    ENVS: ENVIRONMENTS_YAML.replace("\n", "\r\n"),
                }
            ),
            args=RENDER,
            faithful=_spec_survives,
        ),
        Case(
            "bidi-override-in-description",
            "encoding",
            _files({MODEL: UTF8_MODEL.replace('"é"', '"safe \u202egnp.exe"')}),
            args=RENDER,
            faithful=_spec_survives,
        ),
        # -- paths and links
        Case(
            "artifact-symlink-outside-repo",
            "paths",
            _symlinked_artifact("/etc/hostname"),
            "leaves the model folder",
        ),
        Case(
            "artifact-symlink-to-sibling-model",
            "paths",
            _symlinked_artifact("../../environments.yaml"),
            "leaves the model folder",
        ),
        Case(
            "artifact-path-traversal",
            "paths",
            _files({MODEL: _model(**{"path: model.onnx": "path: ../../environments.yaml"})}),
            "leaves the model folder",
        ),
        Case(
            "artifact-absolute-path",
            "paths",
            _files({MODEL: _model(**{"path: model.onnx": "path: /etc/hostname"})}),
            "leaves the model folder",
        ),
        Case(
            "model-folder-symlink-outside-repo",
            "paths",
            _model_folder_outside,
            "outside the repository",
        ),
        Case(
            "model-file-symlink-outside-repo",
            "paths",
            _model_file_outside,
            "outside the repository",
        ),
        # -- names
        Case(
            "model-name-traversal",
            "names",
            _files({MODEL: _model(**{"name: fraud": 'name: "../../etc"'})}),
            "is not valid",
        ),
        Case(
            "model-name-upper",
            "names",
            _files({MODEL: _model(**{"name: fraud": "name: Fraud"})}),
            "is not valid",
        ),
        Case(
            "environment-name-traversal",
            "names",
            _files({ENVS: ENVIRONMENTS_YAML.replace("name: dev", 'name: "../dev"')}),
            "is not valid",
            ENVS,
        ),
        *(
            Case(
                f"namespace-{namespace}",
                "names",
                _files(
                    {
                        ENVS: ENVIRONMENTS_YAML.replace(
                            "namespace: ml-dev", f"namespace: {namespace}"
                        )
                    }
                ),
                "reserved",
                ENVS,
            )
            for namespace in ("kube-system", "kube-public", "kube-node-lease", "default", "kube-ml")
        ),
        Case(
            "secret-name-traversal",
            "names",
            _files({MODEL: _model('secretRefs: [{env: DB_PASS, secret: "../x", key: pw}]')}),
            "is not valid",
        ),
        # -- values
        Case(
            "yaml11-booleans-in-config",
            "values",
            _files({MODEL: _model(BOOLEANS)}),
            args=RENDER,
            faithful=_config_strings,
        ),
        Case(
            "unquoted-number-in-config",
            "values",
            _files({MODEL: _model("config: {THREADS_HINT: 4}")}),
            "expected string, got number 4",
        ),
        Case(
            "secret-like-config-key",
            "values",
            _files({MODEL: _model('config: {DB_PASSWORD: "hunter2"}')}),
            "looks like a secret",
        ),
        Case(
            "sha256-mismatch",
            "values",
            _files({MODEL: _model(**{ARTIFACT_SHA256: "a" * 64})}),
            "sha256 of models/fraud/model.onnx is",
        ),
    ]


def check_case(case: Case, scratch: Path) -> tuple[CliRun, list[str]]:
    """Run one case in ``scratch`` (a fresh folder); return the run and what went wrong."""
    root = scratch / "repo"
    root.mkdir(parents=True)
    case.build(root)
    run = run_cli(root, *case.args, timeout=120)
    wrong: list[str] = []
    if run.traceback:
        wrong.append("traceback:\n" + run.stderr[-2000:])
    if case.error:
        if run.exit_code != 1:
            wrong.append(f"exit code {run.exit_code}, expected 1")
        located = re.compile(rf"^{re.escape(case.file)}:\d+:\d+: .*({case.error})", re.MULTILINE)
        if not located.search(run.stderr):
            wrong.append(f"no located error matching {case.error!r} in:\n{run.stderr[:2000]}")
    else:
        if run.exit_code != 0:
            wrong.append(f"exit code {run.exit_code}, expected 0:\n{run.stderr[:2000]}")
        elif case.faithful is not None:
            wrong += case.faithful(run, root)
    wrong += [f"{path} was created" for path in case.outside if (scratch / path).exists()]
    return run, wrong
