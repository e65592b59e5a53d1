"""Names unique across everything the generator writes, in every environment, for both
GitOps controllers.

Gathers the identity of every object the controllers would apply (cluster, API group, kind,
namespace, name), including the Applications Argo CD's ApplicationSets generate from the
overlay folders, and refuses two different inputs writing one identity: the controller would
apply one over the other. The names Argo CD and Flux track applied objects by must also be
label values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from generator.check import apirules
from generator.layout import NAMESPACE_OVERLAY
from generator.load.modelspec import ModelSource
from generator.load.platform import ARGOCD_NAMESPACE, Platform
from generator.load.yamlsource import PathKey
from generator.problems import Problem
from generator.render.tree import ENVIRONMENTS_FILE, RenderedFile
from generator.resolve import Resolved
from generator.verify.fields import RULE, documents_of, is_kustomize_file

ARGOCD_CLUSTER = "the Argo CD cluster"


# Argo CD labels what an Application applies with its name (label tracking, the default);
# Flux labels what a Kustomization applies with its name: both names must be label values.
_TRACKED = {
    "Application": "app.kubernetes.io/instance",
    "Kustomization": "kustomize.toolkit.fluxcd.io/name",
}


@dataclass(frozen=True)
class Identity:
    """What makes an object one object for the API server: two with the same are one."""

    cluster: str
    group: str
    kind: str
    namespace: str
    name: str

    def describe(self) -> str:
        where = f"namespace {self.namespace}" if self.namespace else "the cluster"
        return f"{self.kind} {self.name!r} in {where} of {self.cluster}"


@dataclass(frozen=True)
class Writer:
    """Which input makes an object: a model in an environment, or an environment alone."""

    label: str
    file: str
    path: PathKey


def _identity(obj: Mapping[str, Any], cluster: str, namespace: str) -> Identity | None:
    if "kind" not in obj or "apiVersion" not in obj or is_kustomize_file(obj):
        return None
    name = str((obj.get("metadata") or {}).get("name", ""))
    group = str(obj["apiVersion"]).rpartition("/")[0]
    scoped = "" if obj["kind"] == "Namespace" else namespace
    explicit = str((obj.get("metadata") or {}).get("namespace", ""))
    return Identity(cluster, group, str(obj["kind"]), explicit or scoped, name)


def normalized_basename(name: str) -> str:
    """Argo CD's ``path.basenameNormalized``: characters a name cannot hold become '-'."""
    return re.sub(r"[^-a-z0-9.]", "-", name.lower())


def _model_writer(model: ModelSource, env: str) -> Writer:
    return Writer(f"model {model.name} in environment {env}", model.file, ("metadata", "name"))


def _env_writer(platform: Platform, env: str) -> Writer:
    index = platform.environment_names.index(env)
    return Writer(f"environment {env}", ENVIRONMENTS_FILE, ("environments", index, "name"))


def identities(
    files: Sequence[RenderedFile],
    platform: Platform,
    models: Sequence[ModelSource],
    deployments: Sequence[Resolved],
) -> list[tuple[Identity, Writer]]:
    """Every object the controllers apply, with the input that makes it."""
    by_name = {m.name: m for m in models}
    envs = {e.name: e for e in platform.environments}
    deployed: dict[str, list[Resolved]] = {}
    for spec in deployments:
        deployed.setdefault(spec.model, []).append(spec)
    result: list[tuple[Identity, Writer]] = []
    for file in files:
        if not isinstance(file.obj, Mapping):
            continue
        parts = file.path.split("/")
        targets: list[tuple[str, str, Writer]] = []
        if parts[0] == "base":
            targets = [
                (
                    d.environment.cluster,
                    d.environment.namespace,
                    _model_writer(by_name[d.model], d.environment.name),
                )
                for d in deployed.get(parts[1], [])
            ]
        elif parts[0] == "overlays" and parts[1] in envs:
            env = envs[parts[1]]
            writer = (
                _env_writer(platform, env.name)
                if parts[2] == NAMESPACE_OVERLAY
                else _model_writer(by_name[parts[2]], env.name)
            )
            targets = [(env.cluster, env.namespace, writer)]
        elif parts[:2] == ["clusters", "argocd"]:
            targets = [
                (ARGOCD_CLUSTER, "", Writer("the Argo CD entry points", ENVIRONMENTS_FILE, ()))
            ]
        elif parts[:2] == ["clusters", "flux"] and parts[2] in envs:
            env = envs[parts[2]]
            model = parts[3].removeprefix("model-").removesuffix(".yaml")
            writer = (
                _model_writer(by_name[model], env.name)
                if parts[3].startswith("model-") and model in by_name
                else _env_writer(platform, env.name)
            )
            targets = [(env.cluster, "", writer)]
        for cluster, namespace, writer in targets:
            identity = _identity(file.obj, cluster, namespace)
            if identity is not None:
                result.append((identity, writer))
    if platform.controller in ("argocd", "both"):
        result += _argocd_applications(platform, by_name, deployments)
    return result


def _argocd_applications(
    platform: Platform, models: Mapping[str, ModelSource], deployments: Sequence[Resolved]
) -> list[tuple[Identity, Writer]]:
    """The Applications each environment's ApplicationSet generates, one per overlay folder:
    named ``<env>-<basenameNormalized>`` (see `generator.render.gitops_argocd`)."""
    result = []
    for env in platform.environments:
        folders = [(NAMESPACE_OVERLAY, _env_writer(platform, env.name))] + [
            (d.model, _model_writer(models[d.model], env.name))
            for d in deployments
            if d.environment.name == env.name
        ]
        for folder, writer in folders:
            name = f"{env.name}-{normalized_basename(folder)}"
            identity = Identity(
                ARGOCD_CLUSTER, "argoproj.io", "Application", ARGOCD_NAMESPACE, name
            )
            result.append((identity, writer))
    return result


def duplicate_problems(
    files: Sequence[RenderedFile],
    platform: Platform,
    models: Sequence[ModelSource],
    deployments: Sequence[Resolved],
) -> list[Problem]:
    """Two inputs that would make one object: the controller would apply one over the other."""
    documents = documents_of(platform, models)
    first: dict[Identity, Writer] = {}
    problems = []
    for identity, writer in identities(files, platform, models, deployments):
        if identity.kind in _TRACKED and (errors := apirules.label_value(identity.name)):
            problem = documents[writer.file].problem(
                writer.path,
                f"{identity.describe()} is too long or malformed for the label the GitOps "
                f"controller tracks it by ({_TRACKED[identity.kind]}): {'; '.join(errors)}",
                "shorten the model or environment name",
            )
            problems.append(replace(problem, rule=RULE))
        earlier = first.setdefault(identity, writer)
        if earlier == writer or earlier.label == writer.label:
            continue
        # A model that takes a name the environment's own objects use is the one to rename.
        blamed = earlier if writer.file == ENVIRONMENTS_FILE else writer
        problem = documents[blamed.file].problem(
            blamed.path,
            f"{identity.describe()} is generated both for {earlier.label} and for "
            f"{writer.label}; one would overwrite the other",
            "rename the model or the environment so the generated names differ",
        )
        problems.append(replace(problem, rule=RULE))
    return problems
