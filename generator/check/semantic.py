"""Checks a JSON Schema cannot express: cross-field, cross-file and file-system rules."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from generator.check.artifacts import check_artifact
from generator.check.monitoring import check_monitoring
from generator.check.networkchecks import check_environment_network, check_model_network
from generator.check.platformchecks import check_placement, check_platform_images
from generator.check.rollout import check_rollout
from generator.layout import RepoLayout
from generator.load.inputschema import did_you_mean
from generator.load.modelspec import ModelSource
from generator.load.platform import ARGOCD_NAMESPACE, FLUX_NAMESPACE, Environment, Platform
from generator.load.yamlsource import Document
from generator.problems import Problem
from generator.resolve import is_enabled, merged_tunables, origin
from serving.errors import SettingsError
from serving.settings import SETTING_NAMES as SERVER_SETTING_NAMES
from serving.settings import settings_from_env

SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "KEY", "CREDENTIAL", "PRIVATE")
_SECRET_PATTERN = re.compile(r"(^|_)(" + "|".join(SECRET_WORDS) + r")S?($|_)")
RESERVED_CONFIG = frozenset(
    {"MODEL_NAME", "MODEL_VERSION", "MODEL_PATH", "PORT", "WORKERS", "THREADS", "LOG_FILE"}
    | {"ORT_PROVIDERS", "LOG_LEVEL", "MODEL_PROFILE", "GRPC_PORT", "LOG_MAX_BYTES"}
    | {"ORT_INTRA_OP_THREADS", "ORT_ALLOW_FALLBACK"}
    | {"DRAIN_SECONDS", "GRACEFUL_TIMEOUT"}
)
# Kubernetes keeps ``default`` and the ``kube-`` prefix for itself, and the GitOps controllers'
# own namespaces hold their credentials: the AppProject would let every model deploy there.
RESERVED_NAMESPACES = frozenset({"default", ARGOCD_NAMESPACE, FLUX_NAMESPACE})


def check_platform(platform: Platform) -> Iterator[Problem]:
    doc = platform.document
    seen_names: dict[str, int] = {}
    seen_namespaces: dict[str, int] = {}
    for env in platform.environments:
        path = ("environments", env.index)
        if env.name in seen_names:
            yield doc.problem(
                (*path, "name"),
                f"environment {env.name!r} is defined twice "
                f"(first as environments[{seen_names[env.name]}])",
                "give each environment a unique name",
            )
        seen_names.setdefault(env.name, env.index)
        if env.namespace in seen_namespaces:
            yield doc.problem(
                (*path, "namespace"),
                f"namespace {env.namespace!r} is used by two environments",
                "give each environment its own namespace; quotas and policies are per namespace",
            )
        seen_namespaces.setdefault(env.namespace, env.index)
        if env.namespace in RESERVED_NAMESPACES or env.namespace.startswith("kube-"):
            yield doc.problem(
                (*path, "namespace"),
                f"namespace {env.namespace!r} is reserved for Kubernetes or the GitOps controllers",
                "give the environment its own namespace, such as ml-" + env.name,
            )
        for key, value in env.defaults.get("config", {}).items():
            key_path = (*path, "defaults", "config", key)
            yield from _check_default_config_key(platform, key_path, key)
            yield from server_setting_problems(doc, key_path, key, value)
        fluentd = doc.data["environments"][env.index].get("logging", {}).get("fluentd", {})
        if fluentd.get("enabled") and "aggregator" not in fluentd:
            yield doc.problem(
                (*path, "logging", "fluentd"),
                f"environment {env.name!r} enables Fluentd but names no aggregator",
                "add aggregator: {host: <fluentd service>, port: 24224}",
            )
        yield from check_platform_images(platform, env, fluentd)
        yield from check_placement(platform, env)
        yield from check_environment_network(platform, env)
        if fluentd.get("image", "").endswith(":latest"):
            yield doc.problem(
                (*path, "logging", "fluentd", "image"),
                "the Fluentd image must be pinned, not ':latest'",
                "use a version tag such as fluent/fluentd:v1.17-1 or a digest",
            )


def check_model(
    layout: RepoLayout, model: ModelSource, platform: Platform, known_rules: Sequence[str]
) -> Iterator[Problem]:
    """Every rule on one model that the schema cannot express: its files on disk (a folder
    linked out of the repository stops there), then the rules on its data alone."""
    links = list(links_out_of_repository(layout, model))
    if links:
        yield from links
        return
    yield from folder_name_problems(model)
    yield from check_artifact(layout, model)
    yield from check_monitoring(layout, model, platform)
    yield from check_model_rules(model, platform, known_rules)


def links_out_of_repository(layout: RepoLayout, model: ModelSource) -> Iterator[Problem]:
    """The model folder or its model.yaml as a link to a place outside the repository, which
    reviews of the repository never see."""
    root = layout.root.resolve()
    for entry in (layout.model_dir(model.folder), layout.model_file(model.folder)):
        if not entry.resolve().is_relative_to(root):
            yield model.document.problem(
                (),
                f"{layout.relative(entry)} is a link to {entry.resolve()}, outside the repository",
                "keep the model folder and its files in the repository; reviews see only it",
            )
            return


def folder_name_problems(model: ModelSource) -> Iterator[Problem]:
    """metadata.name must equal the folder's name (``validate``, ``build`` and ``promote``)."""
    if model.name != model.folder:
        yield model.document.problem(
            ("metadata", "name"),
            f"metadata.name {model.name!r} differs from its folder models/{model.folder}/",
            f"rename the folder or set name: {model.folder}",
        )


def check_model_rules(
    model: ModelSource, platform: Platform, known_rules: Sequence[str]
) -> Iterator[Problem]:
    """The rules on the model's data alone (no disk). ``known_rules``: the policy's rule ids,
    which waivers must name (passed in: the policy runs later, on built overlays)."""
    doc = model.document
    for index, waiver in enumerate(model.waivers):
        if waiver.rule not in known_rules:
            yield doc.problem(
                ("spec", "policy", "waivers", index, "rule"),
                f"waiver for unknown policy rule {waiver.rule!r}",
                did_you_mean(waiver.rule, list(known_rules)) + " (list the rules: mlgitops policy)",
            )
    names = platform.environment_names
    for env_name in model.overrides:
        if env_name not in names:
            yield doc.problem(
                ("spec", "environments", env_name),
                f"override for unknown environment {env_name!r}",
                did_you_mean(env_name, names) + " (environments come from environments.yaml)",
                key=True,
            )
    config_sources = [(("spec", "config"), model.tunables.get("config", {}))] + [
        (("spec", "environments", env, "config"), override.get("config", {}))
        for env, override in model.overrides.items()
    ]
    secret_envs = {ref.env for ref in model.secret_refs}
    for path, config in config_sources:
        for key, value in config.items():
            yield from _check_config_key(model, (*path, key), key, secret_envs)
            yield from server_setting_problems(doc, (*path, key), key, value)
    yield from check_model_network(doc, model.egress)
    for index, ref in enumerate(model.secret_refs):
        if ref.env in RESERVED_CONFIG:
            yield doc.problem(
                ("spec", "secretRefs", index, "env"),
                f"secretRefs[{index}].env {ref.env!r} is set by mlgitops itself",
                "choose another variable name",
            )
    for env in platform.environments:
        if not is_enabled(model, env):
            continue
        yield from _check_resolved(model, env, platform)
        yield from check_rollout(model, env, platform)


def _check_config_key(
    model: ModelSource, path: tuple[str | int, ...], key: str, secret_envs: set[str]
) -> Iterator[Problem]:
    doc = model.document
    if _SECRET_PATTERN.search(key.upper()):
        yield doc.problem(
            path,
            f"config key {key!r} looks like a secret; config values are stored in plain text",
            f"move it to secretRefs: [{{env: {key}, secret: <secret name>, key: <key>}}]",
            key=True,
        )
    if key in RESERVED_CONFIG:
        yield doc.problem(
            path,
            f"config key {key!r} is set by mlgitops itself",
            "use the matching spec field (version, server, logging) instead",
            key=True,
        )
    if key in secret_envs:
        yield doc.problem(
            path,
            f"{key!r} is both a config key and a secretRefs env",
            "keep one of the two",
            key=True,
        )


def server_setting_problems(
    doc: Document, path: tuple[str | int, ...], key: str, value: object
) -> Iterator[Problem]:
    """A config value that the model server reads as one of its settings must be one the server
    accepts at start: the server's own validation (`serving.settings`, the same code the pod
    runs) decides, so ``MAX_REQUEST_BYTES: "0"`` is refused here instead of crash-looping the
    pod. Keys the server does not read pass untouched."""
    if key not in SERVER_SETTING_NAMES or key in RESERVED_CONFIG:
        return
    try:
        settings_from_env({"MODEL_PATH": "model.onnx", key: str(value)})
    except SettingsError as error:
        yield doc.problem(
            path,
            f"config {key}={value!r} would stop the model server at start: {error}",
            "give a value the server accepts (its settings: docs/serving.md)",
        )


def _check_default_config_key(
    platform: Platform, path: tuple[str | int, ...], key: str
) -> Iterator[Problem]:
    """An environment's default config reaches every model's ConfigMap: the same rules apply."""
    if _SECRET_PATTERN.search(key.upper()):
        yield platform.document.problem(
            path,
            f"config key {key!r} looks like a secret; config values are stored in plain text",
            "remove it; each model references its Secret through spec.secretRefs",
            key=True,
        )
    if key in RESERVED_CONFIG:
        yield platform.document.problem(
            path,
            f"config key {key!r} is set by mlgitops itself",
            "remove it; the models' spec fields (version, server, logging) set it",
            key=True,
        )


def _check_resolved(model: ModelSource, env: Environment, platform: Platform) -> Iterator[Problem]:
    spec = merged_tunables(model, env)
    scaling = spec["scaling"]
    if scaling["minReplicas"] > scaling["maxReplicas"]:
        doc, path = origin(model, env, platform, ("scaling", "minReplicas"))
        yield doc.problem(
            path,
            f"{env.name}: minReplicas {scaling['minReplicas']} is greater than "
            f"maxReplicas {scaling['maxReplicas']}",
            "make minReplicas <= maxReplicas",
        )
    if spec["accelerator"] == "gpu" and env.gpu_pool is None:
        doc, path = origin(model, env, platform, ("accelerator",))
        yield doc.problem(
            path,
            f"{model.name} asks for a GPU in environment {env.name!r}, which has no GPU node pool",
            f"set spec.environments.{env.name}.accelerator: cpu, or add nodePools.gpu to "
            f"{env.name} in environments.yaml",
        )
