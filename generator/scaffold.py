"""``mlgitops init``: a new model folder that validates as written.

A data scientist's first model.yaml is usually copied from another model, with that model's
owner, checksum and interface. Generating it from the artifact instead records the real
sha256 and signature, and the comments explain each field where it is edited.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator.check.apirules import dns1035_label, dns1123_label
from generator.check.sizing import initial_memory
from generator.digest import file_sha256
from generator.errors import ExitCode, MlgitopsError
from generator.layout import RepoLayout
from generator.load.defaults import field_schema, tunable_defaults
from generator.load.inputschema import MODEL_SCHEMA, load_schema
from generator.load.repository import load_platform
from generator.load.signature import Signature, SignatureError, Tensor, read_signature
from generator.yamlout import Commented, Flow, dump

ARTIFACT_NAME = "model.onnx"
DEFAULT_OWNER = "unassigned"


class ScaffoldError(MlgitopsError):
    """A refusal; ``usage`` tells whether the arguments (exit 2) or the inputs (exit 1) are
    wrong."""

    def __init__(self, message: str, hint: str, *, usage: bool) -> None:
        super().__init__(message)
        self.hint = hint
        self.usage = usage
        self.exit_code = ExitCode.USAGE if usage else ExitCode.INVALID


@dataclass(frozen=True)
class Scaffolded:
    folder: Path
    sha256: str
    signature: Signature
    external_data: tuple[tuple[str, str], ...] = ()
    """(location, sha256) of each ONNX external data file the graph references."""


def check_name(name: str, what: str, field: tuple[str, ...]) -> None:
    """Refuse what the schema would refuse at ``field`` (its pattern and maxLength), before
    anything is written; ScaffoldError (exit 2) naming the rule."""
    rules = field_schema(MODEL_SCHEMA, *field)
    limit = int(rules["maxLength"])
    if (
        limit < int(load_schema(MODEL_SCHEMA)["$defs"]["dnsLabel"]["maxLength"])
        and len(name) > limit
    ):
        raise ScaffoldError(
            f"{what} {name!r} is {len(name)} characters long; at most {limit} are allowed",
            "choose a shorter name (it prefixes every Kubernetes object of the model)",
            usage=True,
        )
    if not re.fullmatch(str(rules["pattern"]), name) or len(name) > limit:
        if not dns1123_label(name) and (errors := dns1035_label(name)):
            raise ScaffoldError(
                f"{what} {name!r} also names the model's Service: it {'; '.join(errors)}",
                "use lower-case letters, digits and '-', starting with a letter",
                usage=True,
            )
        raise ScaffoldError(
            f"{what} {name!r} is not a DNS-1123 label",
            "use lower-case letters, digits and '-', starting and ending with a letter or digit",
            usage=True,
        )


def _tensor(tensor: Tensor) -> Flow:
    return Flow(tensor.flow_data())


def _flow_defaults(*path: str) -> Flow:
    """A tunable's schema defaults (``resources``, ``scaling``) as a one-line mapping."""
    value: Any = tunable_defaults()
    for key in path:
        value = value[key]
    return Flow(dict(value))


def _resources(memory: str | None) -> Flow:
    """The schema's default requests, with the memory sized from the artifact when given."""
    defaults = dict(tunable_defaults()["resources"])
    return Flow(defaults | ({"memory": memory} if memory else {}))


OPTIONAL_FIELDS = (
    "Plain environment variables for the server (never secrets: use secretRefs):",
    'config: {FEATURE_FLAG: "on"}',
    "Exceptions to the policy rules (`mlgitops policy` lists them), with a reason:",
    "policy:",
    '  waivers: [{rule: "MLG110", reason: "single replica by design"}]',
)


def _environments_note(name: str, digest_environments: Sequence[str]) -> tuple[str, ...]:
    """A new model has no image yet: environments that require a pinned digest start disabled,
    so the scaffold validates as written and the model reaches them through promotion."""
    if not digest_environments:
        return (
            "Per-environment overrides, keyed by environment name from environments.yaml:",
            "environments:",
            "  prod: {scaling: {minReplicas: 2, maxReplicas: 6}}",
        )
    names = ", ".join(digest_environments)
    return (
        "Per-environment overrides, keyed by environment name from environments.yaml.",
        f"{names} require(s) a pinned image digest: the model stays out until",
        f"`mlgitops build {name} --push` and `mlgitops promote {name} --to <env>` pin one;",
        "then remove `enabled: false`.",
    )


def _artifact_document(
    sha256: str, uri: str, external_data: Sequence[tuple[str, str]], resolved: str
) -> dict[str, Any]:
    """spec.artifact: the copied file's path, or the uri it stays at; its external data."""
    artifact: dict[str, Any] = {}
    if uri:
        where: tuple[str, ...] = (
            "Where `mlgitops fetch` and `build` get the ONNX file (registry, S3, HTTPS).",
        )
        if resolved:
            where += (f"{uri} named {resolved} when this file was written.",)
        artifact["uri"] = Commented(uri, before=where)
    else:
        artifact["path"] = Commented(
            ARTIFACT_NAME, before=("The ONNX file, relative to this folder.",)
        )
    artifact["sha256"] = Commented(
        sha256,
        before=("SHA-256 of the file; validation fails when the file changes without it.",),
    )
    if external_data:
        artifact["externalData"] = Commented(
            [Flow({"path": path, "sha256": digest}) for path, digest in external_data],
            before=("The external data files the graph references, each with its SHA-256.",),
        )
    return artifact


@dataclass(frozen=True)
class NewModel:
    """What `mlgitops init` knows of the model it scaffolds.

    ``sha256``: of the artifact (hex); ``digest_environments``: environments that require a
    pinned image digest (the new model starts disabled there); ``uri``: the ``--from`` source,
    or "" for a copied local file; ``external_data``: (path, sha256) of each external data file
    the graph references; ``resolved``: the immutable version a moving registry reference
    resolved to; ``memory``: the memory request sized from the artifact
    (`generator.check.sizing.initial_memory`), None for the schema's default."""

    name: str
    owner: str
    sha256: str
    signature: Signature
    digest_environments: Sequence[str] = ()
    uri: str = ""
    external_data: Sequence[tuple[str, str]] = ()
    resolved: str = ""
    memory: str | None = None


def model_document(model: NewModel) -> dict[str, Any]:
    """The new model.yaml as data: the fields a person sets, the schema's defaults for the
    tunables, and comments that explain each field where it is edited."""
    name, signature, digest_environments = model.name, model.signature, model.digest_environments
    tunables = tunable_defaults()
    spec: dict[str, Any] = {
        "version": Commented(
            "0.1.0", before=("Model version: the image tag. Raise it with every new artifact.",)
        ),
        "artifact": _artifact_document(
            model.sha256, model.uri, model.external_data, model.resolved
        ),
        "resources": Commented(
            _resources(model.memory),
            before=(
                "Requests per replica (memory limit = request); memory is sized from the artifact.",
            ),
        ),
        "accelerator": Commented(
            tunables["accelerator"],
            before=("cpu, or gpu where the environment has a GPU node pool.",),
        ),
        "scaling": Commented(
            _flow_defaults("scaling"),
            before=(
                "Horizontal Pod Autoscaler bounds; more than one replica also gets a",
                "PodDisruptionBudget.",
            ),
        ),
    }
    note = OPTIONAL_FIELDS + _environments_note(name, digest_environments)
    signature_data = {
        "inputs": [_tensor(t) for t in signature.inputs],
        "outputs": [_tensor(t) for t in signature.outputs],
    }
    signature_comment = (
        "The interface read from the artifact. Validation compares it with the file,",
        "so a model whose inputs or outputs change is caught in review.",
    )
    if digest_environments:
        spec["signature"] = Commented(signature_data, before=signature_comment)
        spec["environments"] = Commented(
            {env: Flow({"enabled": False}) for env in digest_environments}, before=note
        )
    else:
        spec["signature"] = Commented(signature_data, before=signature_comment, after=note)
    return {
        "apiVersion": "mlgitops/v1",
        "kind": "Model",
        "metadata": {
            "name": Commented(
                name,
                before=(
                    "DNS-1035 label, equal to this folder's name; names every Kubernetes object.",
                ),
            ),
            "owner": Commented(
                model.owner, before=("The owning team; becomes the label mlgitops.io/owner.",)
            ),
            "description": Commented(f"{name} model", before=("Free text shown to reviewers.",)),
        },
        "spec": spec,
    }


def model_yaml(model: NewModel) -> str:
    """The commented model.yaml, written by the one YAML emitter (every string quoted)."""
    header = (
        f"# {model.name}: created by `mlgitops init`. Reference of every field: "
        "docs/model-yaml.md\n# (or `mlgitops schema`). Check your edits with `mlgitops validate`.\n"
    )
    return header + dump(model_document(model), indent_lists=True)


def _digest_environments(layout: RepoLayout) -> list[str]:
    platform, _ = load_platform(layout)
    if platform is None:
        return []
    return [env.name for env in platform.environments if env.require_digest]


def scaffold(
    layout: RepoLayout, name: str, artifact: Path | None, owner: str, source: str = ""
) -> Scaffolded:
    """Create models/<name>/ in one rename, so a refusal or a crash leaves nothing behind.
    ``artifact``: a local ONNX file, copied in with its external data files; ``source``: a uri
    (``--from``), fetched into the artifact cache and recorded, not copied."""
    check_name(name, "model name", ("metadata", "name"))
    check_name(owner, "owner", ("metadata", "owner"))
    target = layout.model_dir(name)
    if target.exists():
        raise ScaffoldError(
            f"{layout.relative(target)} already exists",
            "choose another name, or edit the existing model.yaml",
            usage=False,
        )
    if source:
        graph, sha256, external, resolved = _adopt(source)
        copies: list[tuple[Path, str]] = []
    else:
        assert artifact is not None
        graph, resolved = _local(artifact), ""
        sha256, external = _local_digests(graph)
        copies = [(graph, ARTIFACT_NAME)] + [(graph.parent / loc, loc) for loc, _ in external]
    try:
        signature = read_signature(graph)
    except SignatureError as error:
        raise ScaffoldError(
            f"artifact {source or artifact}: {error}",
            "export the model to ONNX first (for scikit-learn: skl2onnx)",
            usage=False,
        ) from error
    layout.models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=layout.models_dir))
    try:
        for origin, member in copies:
            (staging / member).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, staging / member)
        text = model_yaml(
            NewModel(
                name,
                owner,
                sha256,
                signature,
                _digest_environments(layout),
                uri=source,
                external_data=external,
                resolved=resolved,
                memory=initial_memory(
                    tunable_defaults()["server"]["workers"],
                    _artifact_bytes(graph, external, copies),
                ),
            )
        )
        (staging / "model.yaml").write_text(text, encoding="utf-8")
        staging.chmod(0o755)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Scaffolded(target, sha256, signature, tuple(external))


def _local(artifact: Path) -> Path:
    if not artifact.is_file():
        raise ScaffoldError(
            f"artifact {artifact} does not exist or is not a file",
            "pass the path of an .onnx file with --artifact",
            usage=True,
        )
    return artifact


def _local_digests(graph: Path) -> tuple[str, list[tuple[str, str]]]:
    """The graph's sha256 and each of its external data files' (location, sha256)."""
    from generator.artifacts.adopt import external_files
    from generator.artifacts.external import LocationError, NotOnnxError

    try:
        sha256 = file_sha256(graph)
        try:
            files = external_files(graph)
        except NotOnnxError:
            files = []  # read_signature reports a file that is not ONNX
        return sha256, [(location, file_sha256(path)) for location, path in files]
    except LocationError as error:
        raise ScaffoldError(f"artifact {graph}: {error}", "", usage=False) from error
    except OSError as error:
        raise ScaffoldError(
            f"artifact {graph} or a data file beside it cannot be read: {error.strerror} "
            f"({error.filename})",
            "check the path and its permissions; external data files lie beside the graph",
            usage=True,
        ) from error


def _artifact_bytes(
    graph: Path, external: Sequence[tuple[str, str]], copies: Sequence[tuple[Path, str]]
) -> int:
    """Bytes the server loads: the graph and every external data file (copied from the model's
    folder, or kept in the artifact cache by sha256 for a uri)."""
    if copies:
        return sum(origin.stat().st_size for origin, _ in copies)
    from generator.artifacts.cache import default_cache

    cache = default_cache()
    kept = (cache.path(sha) for _, sha in external)
    return graph.stat().st_size + sum(p.stat().st_size for p in kept if p.is_file())


def _adopt(uri: str) -> tuple[Path, str, list[tuple[str, str]], str]:
    from generator.artifacts.adopt import adopt
    from generator.artifacts.cache import default_cache
    from generator.artifacts.external import ExternalDataError
    from generator.artifacts.reference import UriError
    from generator.artifacts.sources import FetchError

    try:
        adopted = adopt(uri, default_cache())
    except (UriError, FetchError) as error:
        raise ScaffoldError(str(error), error.hint, usage=isinstance(error, UriError)) from error
    except ExternalDataError as error:
        raise ScaffoldError(
            f"artifact {uri}: {error}",
            "register or upload an ONNX model (with its external data beside it)",
            usage=False,
        ) from error
    return adopted.graph, adopted.sha256, list(adopted.external_data), adopted.resolved
