"""Every rendered field held to the API server's rule for it, located at its input.

`generator.check.values` checks the inputs it knows reach Kubernetes fields; this module is the
net under it. It walks every object the generator renders (bases, overlays with their ConfigMap
generators, components, namespace overlays, Argo CD and Flux objects; and, when overlays are
built, every object kustomize builds, with the patches applied), checks each field it finds
by the Kubernetes rule for that field (`generator.check.apirules`), and reports a refusal at
the input the value came from: the scalar of the file's sources (its model.yaml,
environments.yaml) that equals the value, or failing that the longest one it contains.

Names two inputs would both generate are `generator.verify.names`' concern.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from generator.check import apirules
from generator.load.modelspec import ModelSource
from generator.load.platform import Platform
from generator.load.yamlsource import Document, PathKey
from generator.problems import Problem
from generator.render.tree import ENVIRONMENTS_FILE, RenderedFile

RULE = "k8s-api"
_KUSTOMIZE_API = "kustomize.config.k8s.io/"


def is_kustomize_file(obj: Mapping[str, Any]) -> bool:
    """kustomize's own Kustomization or Component, as opposed to an object it builds (a Flux
    Kustomization is such an object)."""
    return str(obj.get("apiVersion", "")).startswith(_KUSTOMIZE_API)


@dataclass(frozen=True)
class Finding:
    """One refused value: where in the rendered object, the value, and why."""

    field: str
    value: str
    message: str
    key: bool = False


def _name_rule(kind: str) -> Callable[[str], list[str]]:
    if kind == "Service":
        return apirules.dns1035_label
    if kind == "Namespace":
        return apirules.dns1123_label
    return apirules.dns1123_subdomain


def _dotted(path: Sequence[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def _each(
    errors: list[str], path: Sequence[str | int], value: Any, key: bool = False
) -> Iterator[Finding]:
    for message in errors:
        yield Finding(_dotted(path), str(value), message, key)


def _container(item: Mapping[str, Any], path: tuple[str | int, ...]) -> Iterator[Finding]:
    if "name" in item:
        yield from _each(apirules.dns1123_label(str(item["name"])), (*path, "name"), item["name"])
    for i, port in enumerate(item.get("ports") or []):
        if "name" in port:
            yield from _each(
                apirules.port_name(str(port["name"])), (*path, "ports", i, "name"), port["name"]
            )
        if "containerPort" in port:
            yield from _each(
                apirules.port_number(port["containerPort"]),
                (*path, "ports", i, "containerPort"),
                port["containerPort"],
            )
    for i, env in enumerate(item.get("env") or []):
        name = str(env.get("name", ""))
        yield from _each(apirules.env_var_name(name), (*path, "env", i, "name"), name)
        secret = (env.get("valueFrom") or {}).get("secretKeyRef") or {}
        if "key" in secret:
            yield from _each(
                apirules.config_map_key(str(secret["key"])),
                (*path, "env", i, "valueFrom", "secretKeyRef", "key"),
                secret["key"],
            )


def _service_ports(ports: Sequence[Any], path: tuple[str | int, ...]) -> Iterator[Finding]:
    for i, port in enumerate(ports):
        if "name" in port:
            yield from _each(
                apirules.port_name(str(port["name"])), (*path, i, "name"), port["name"]
            )
        if "port" in port:
            yield from _each(apirules.port_number(port["port"]), (*path, i, "port"), port["port"])
        target = port.get("targetPort")
        if isinstance(target, str):
            yield from _each(apirules.port_name(target), (*path, i, "targetPort"), target)
        elif target is not None:
            yield from _each(apirules.port_number(target), (*path, i, "targetPort"), target)


_REFERENCE_NAMES = ("configMapRef", "secretKeyRef", "configMapKeyRef", "configMap", "secretRef")


def _walk(node: Any, path: tuple[str | int, ...], kind: str) -> Iterator[Finding]:
    """Check every field of ``node`` whose name says which rule applies, at any depth.
    (Rendered and built objects are plain dicts and lists: ``dict`` checks cost far less than
    ``Mapping`` ones, and this runs over every field the generator writes.)"""
    if isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk(item, (*path, index), kind)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        here = (*path, key)
        if key in ("labels", "matchLabels", "nodeSelector", "pairs") and isinstance(value, dict):
            for label, text in value.items():
                yield from _each(apirules.qualified_name(str(label)), here, label, key=True)
                yield from _each(apirules.label_value(str(text)), (*here, label), text)
        elif key == "annotations" and isinstance(value, dict):
            yield from _each(apirules.annotation_set(value), here, "")
        elif key == "tolerations" and isinstance(value, list):
            for index, item in enumerate(value):
                yield from _each(apirules.toleration(item), (*here, index), _toleration_text(item))
        elif key == "resources" and isinstance(value, dict):
            for message in apirules.resource_requirements(value):
                yield Finding(_dotted(here), _quoted(message), message)
        elif key in ("containers", "initContainers") and isinstance(value, list):
            names = [c.get("name") for c in value if isinstance(c, dict)]
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    yield from _container(item, (*here, index))
            if len(set(names)) < len(names):
                yield Finding(_dotted(here), "", "container names must be unique in a pod")
        elif key == "volumes" and isinstance(value, list):
            for index, item in enumerate(value):
                name = str(item.get("name", ""))
                yield from _each(apirules.dns1123_label(name), (*here, index, "name"), name)
        elif key in ("serviceAccountName", "priorityClassName") and isinstance(value, str):
            yield from _each(apirules.dns1123_subdomain(value), here, value)
        elif key in _REFERENCE_NAMES and isinstance(value, dict) and "name" in value:
            name = str(value["name"])
            yield from _each(apirules.dns1123_subdomain(name), (*here, "name"), name)
        elif key == "topologyKey" and isinstance(value, str):
            yield from _each(apirules.qualified_name(value), here, value)
        elif kind == "Service" and key == "ports" and isinstance(value, list):
            yield from _service_ports(value, here)
        elif kind == "NetworkPolicy" and key == "ports" and isinstance(value, list):
            for index, item in enumerate(value):
                port = item.get("port") if isinstance(item, dict) else None
                rule = apirules.port_name if isinstance(port, str) else apirules.port_number
                if port is not None:
                    yield from _each(rule(port), (*here, index, "port"), port)
        elif kind == "ResourceQuota" and key == "hard" and isinstance(value, dict):
            for name, amount in value.items():
                yield from _each(apirules.qualified_name(str(name)), here, name, key=True)
                yield from _each(apirules.quantity(amount), (*here, name), amount)
        elif kind == "ConfigMap" and key == "data" and isinstance(value, dict):
            for name in value:
                yield from _each(apirules.config_map_key(str(name)), here, name, key=True)
            yield from _each(apirules.config_map_size(value), here, "")
        elif key in ("default", "defaultRequest", "max", "min") and kind == "LimitRange":
            for name, amount in (value or {}).items():
                yield from _each(apirules.quantity(amount), (*here, name), amount)
        if isinstance(value, list | dict) and key not in ("annotations",):
            yield from _walk(value, here, kind)


def _toleration_text(item: Mapping[str, Any]) -> str:
    return str(item.get("key") or item.get("value") or "")


def _quoted(message: str) -> str:
    match = re.search(r"'([^']*)'", message)
    return match.group(1) if match else ""


def _autoscaler(spec: Mapping[str, Any]) -> Iterator[Finding]:
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 1)
    if isinstance(low, int) and low < 1:
        yield Finding("spec.minReplicas", str(low), "must be at least 1")
    if isinstance(low, int) and isinstance(high, int) and high < low:
        yield Finding("spec.maxReplicas", str(high), "must not be less than minReplicas")


def object_findings(obj: Mapping[str, Any]) -> list[Finding]:
    """Everything the API server would refuse in one object (or partial object: a patch)."""
    kind = str(obj.get("kind", ""))
    findings: list[Finding] = []
    metadata = obj.get("metadata") or {}
    if "name" in metadata and not is_kustomize_file(obj):
        name = str(metadata["name"])
        findings += _each(_name_rule(kind)(name), ("metadata", "name"), name)
    if "namespace" in metadata:
        namespace = str(metadata["namespace"])
        findings += _each(apirules.dns1123_label(namespace), ("metadata", "namespace"), namespace)
    # An ApplicationSet's template holds Go templates, evaluated per generated Application:
    # those Applications are checked as `identities` spells them out.
    body = {k: v for k, v in obj.items() if not (kind == "ApplicationSet" and k == "spec")}
    findings += _walk(body, (), kind)
    if kind == "HorizontalPodAutoscaler":
        findings += _autoscaler(obj.get("spec") or {})
    if is_kustomize_file(obj):
        findings += _kustomization(obj)
    return findings


def _kustomization(obj: Mapping[str, Any]) -> Iterator[Finding]:
    """The fields kustomize turns into object fields: namespace, generated ConfigMaps, patches."""
    if isinstance(obj.get("namespace"), str):
        yield from _each(apirules.dns1123_label(obj["namespace"]), ("namespace",), obj["namespace"])
    for index, generator in enumerate(obj.get("configMapGenerator") or []):
        where = ("configMapGenerator", index)
        name = str(generator.get("name", ""))
        yield from _each(apirules.dns1123_subdomain(name), (*where, "name"), name)
        data = dict(str(line).partition("=")[::2] for line in generator.get("literals") or [])
        for key in data:
            yield from _each(apirules.config_map_key(key), (*where, "literals"), key)
        yield from _each(apirules.config_map_size(data), (*where, "literals"), "")
    # Inline patches are not parsed here (a YAML parse per patch would double the cost of this
    # check): they carry the environment's resources and autoscaler bounds, which the input
    # checks hold to their rules, and `built_problems` walks them as kustomize applied them.


# -- mapping a refused value back to the input it came from --------------------------------


def _scalars(document: Document) -> list[tuple[PathKey, str, bool]]:
    found: list[tuple[PathKey, str, bool]] = []

    def visit(node: Any, path: PathKey) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                found.append(((*path, key), str(key), True))
                visit(value, (*path, key))
        elif isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, (*path, index))
        elif node is not None and not isinstance(node, bool):
            found.append((path, str(node), False))

    visit(document.data, ())
    return found


class Locator:
    """Finds the input scalar a rendered value came from (the scalars are listed on first use:
    a run without findings never pays for it)."""

    def __init__(self, documents: Mapping[str, Document]) -> None:
        self.documents = documents
        self._scalars: dict[str, list[tuple[PathKey, str, bool]]] = {}

    def scalars(self, name: str) -> list[tuple[PathKey, str, bool]]:
        if name not in self._scalars:
            self._scalars[name] = _scalars(self.documents[name])
        return self._scalars[name]

    def problem(self, sources: Sequence[str], message: str, value: str, hint: str) -> Problem:
        """``message`` at the scalar of ``sources`` equal to ``value`` (a key or a value), else
        at the longest one ``value`` contains, else at the first source as a whole."""
        candidates = [
            (name, path, text, key)
            for name in sources
            if name in self.documents
            for path, text, key in self.scalars(name)
        ]
        exact = [c for c in candidates if value and c[2] == value]
        inside = sorted(
            (c for c in candidates if len(c[2]) >= 2 and value and c[2] in value),
            key=lambda c: -len(c[2]),
        )
        for name, path, _, key in exact or inside:
            return self.documents[name].problem(path, message, hint, key=key)
        first = next((s for s in sources if s in self.documents), None)
        if first is None:
            return Problem(sources[0] if sources else "", 0, 0, message, hint)
        return self.documents[first].problem((), message, hint)


def documents_of(platform: Platform, models: Sequence[ModelSource]) -> dict[str, Document]:
    """Every input document by the name rendered files give as their source."""
    return {ENVIRONMENTS_FILE: platform.document} | {m.file: m.document for m in models}


def rendered_problems(
    files: Sequence[RenderedFile], platform: Platform, models: Sequence[ModelSource]
) -> list[Problem]:
    """Each refused field of every rendered file, located at its input."""
    locator = Locator(documents_of(platform, models))
    problems = []
    for file in files:
        if not isinstance(file.obj, Mapping):
            continue
        for finding in object_findings(file.obj):
            what = f"{file.obj.get('kind', 'object')} {finding.field}"
            value = f" {finding.value!r}" if finding.value else ""
            problems.append(
                locator.problem(
                    file.sources,
                    f"{file.path}: {what}{value} would be refused by the Kubernetes API "
                    f"server: {finding.message}",
                    finding.value,
                    "change this value so that the rendered field is valid",
                )
            )
    return [replace(p, rule=RULE) for p in problems]


def built_problems(
    files: Sequence[RenderedFile],
    platform: Platform,
    models: Sequence[ModelSource],
    directory: str,
    objects: Sequence[Any],
) -> list[Problem]:
    """The objects kustomize built for the overlay ``directory``, walked as the API server would
    receive them (patches applied), each refusal located at the overlay's inputs."""
    kustomization = f"{directory}/kustomization.yaml"
    sources = next((f.sources for f in files if f.path == kustomization), ())
    locator = Locator(documents_of(platform, models))
    problems = []
    for obj in objects:
        if not isinstance(obj, dict):
            continue
        name = (obj.get("metadata") or {}).get("name", "")
        for finding in object_findings(obj):
            value = f" {finding.value!r}" if finding.value else ""
            problem = locator.problem(
                sources,
                f"{directory}: built {obj.get('kind')} {name} {finding.field}{value} would be "
                f"refused by the Kubernetes API server: {finding.message}",
                finding.value,
                "change this value so that the rendered field is valid",
            )
            problems.append(replace(problem, rule=RULE))
    return problems
