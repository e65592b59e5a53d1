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


def model_document(
    name: str,
    owner: str,
    sha256: str,
    signature: Signature,
    digest_environments: Sequence[str] = (),
) -> dict[str, Any]:
    """The new model.yaml as data: the fields a person sets, the schema's defaults for the
    tunables, and comments that explain each field where it is edited."""
    tunables = tunable_defaults()
    spec: dict[str, Any] = {
        "version": Commented(
            "0.1.0", before=("Model version: the image tag. Raise it with every new artifact.",)
        ),
        "artifact": {
            "path": Commented(ARTIFACT_NAME, before=("The ONNX file, relative to this folder.",)),
            "sha256": Commented(
                sha256,
                before=("SHA-256 of the file; validation fails when the file changes without it.",),
            ),
        },
        "resources": Commented(
            _flow_defaults("resources"),
            before=("Requests per replica; the memory limit equals the memory request.",),
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
                    "DNS-1123 label, equal to this folder's name; names every Kubernetes object.",
                ),
            ),
            "owner": Commented(
                owner, before=("The owning team; becomes the label mlgitops.io/owner.",)
            ),
            "description": Commented(f"{name} model", before=("Free text shown to reviewers.",)),
        },
        "spec": spec,
    }


def model_yaml(
    name: str,
    owner: str,
    sha256: str,
    signature: Signature,
    digest_environments: Sequence[str] = (),
) -> str:
    """The commented model.yaml, written by the one YAML emitter (every string quoted)."""
    header = (
        f"# {name}: created by `mlgitops init`. Reference of every field: docs/model-yaml.md\n"
        "# (or `mlgitops schema`). Check your edits with `mlgitops validate`.\n"
    )
    return header + dump(
        model_document(name, owner, sha256, signature, digest_environments), indent_lists=True
    )


def _digest_environments(layout: RepoLayout) -> list[str]:
    platform, _ = load_platform(layout)
    if platform is None:
        return []
    return [env.name for env in platform.environments if env.require_digest]


def scaffold(layout: RepoLayout, name: str, artifact: Path, owner: str) -> Scaffolded:
    """Create models/<name>/ in one rename, so a refusal or a crash leaves nothing behind."""
    check_name(name, "model name", ("metadata", "name"))
    check_name(owner, "owner", ("metadata", "owner"))
    target = layout.model_dir(name)
    if target.exists():
        raise ScaffoldError(
            f"{layout.relative(target)} already exists",
            "choose another name, or edit the existing model.yaml",
            usage=False,
        )
    if not artifact.is_file():
        raise ScaffoldError(
            f"artifact {artifact} does not exist or is not a file",
            "pass the path of an .onnx file with --artifact",
            usage=True,
        )
    try:
        sha256 = file_sha256(artifact)
    except OSError as error:
        raise ScaffoldError(
            f"artifact {artifact} cannot be read: {error.strerror}",
            "check the path and its permissions",
            usage=True,
        ) from error
    try:
        signature = read_signature(artifact)
    except SignatureError as error:
        raise ScaffoldError(
            f"artifact {artifact}: {error}",
            "export the model to ONNX first (for scikit-learn: skl2onnx)",
            usage=False,
        ) from error
    layout.models_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=layout.models_dir))
    try:
        shutil.copyfile(artifact, staging / ARTIFACT_NAME)
        (staging / "model.yaml").write_text(
            model_yaml(name, owner, sha256, signature, _digest_environments(layout)),
            encoding="utf-8",
        )
        staging.chmod(0o755)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Scaffolded(target, sha256, signature)
