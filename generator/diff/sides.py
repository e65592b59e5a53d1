"""One side of a diff: the inputs rendered by the ordinary pipeline, summarised, and the
overlays that differ from the other side built with the real kustomize."""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from generator.check.quota import demand, update_surge
from generator.layout import RepoLayout, overlay_inputs, overlay_of
from generator.load.yamlsource import load_all_core
from generator.pipeline import make_plan
from generator.plan import Plan
from generator.problems import Problem
from generator.quantities import memory_bytes, millicores
from generator.verify import kustomize
from generator.verify.overlays import materialize

Object = dict[str, Any]

# kustomize appends a hash of the content to generated ConfigMap and Secret names, written in
# this alphabet (hex with 0, 1, 3, a, e replaced): matching it keeps hand-named objects intact.
_HASH_SUFFIX = re.compile(r"^(?P<base>.+)-[2456789bcdfghkmt]{10}$")
_GENERATED_KINDS = ("ConfigMap", "Secret")


@dataclass(frozen=True)
class Usage:
    """What an environment's models ask for at their maximum scale, and what its quota allows."""

    min_replicas: int
    max_replicas: int
    cpu_millis: int
    memory_bytes: int
    gpus: int
    pods: int
    quota_cpu: str
    quota_memory: str
    quota_gpus: int
    quota_pods: int
    surge: tuple[int, int, int, int] = (0, 0, 0, 0)
    """CPU millicores, memory bytes, GPUs and pods the models' updates add (`quota.surge_pods`),
    which the quota must hold too."""

    @property
    def quota_cpu_millis(self) -> int:
        return millicores(self.quota_cpu)

    @property
    def quota_memory_bytes(self) -> int:
        return memory_bytes(self.quota_memory)


@dataclass
class Side:
    """Everything compared about one side; ``plan`` is None where the side has no inputs."""

    label: str
    plan: Plan | None
    fingerprints: dict[str, str] = field(default_factory=dict)
    usage: dict[str, Usage] = field(default_factory=dict)
    waivers: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)


def _overlay_key(path: str) -> str | None:
    overlay = overlay_of(path)
    return "/".join(overlay) if overlay else None


def _dependencies(key: str) -> tuple[str, ...]:
    env, model = key.split("/")
    return overlay_inputs(env, model)


def fingerprints(plan: Plan) -> dict[str, str]:
    """Overlay key (``env/model``) -> hash of every rendered file its build reads: two sides
    whose hashes agree build the same objects, so only the others need kustomize."""
    keys = sorted({key for f in plan.files if (key := _overlay_key(f.path))})
    result = {}
    for key in keys:
        digest = hashlib.sha256()
        prefixes = _dependencies(key)
        for file in plan.files:
            if file.path.startswith(prefixes):
                digest.update(f"{file.path}\0{file.text}\0".encode())
        result[key] = digest.hexdigest()
    return result


def usage(plan: Plan) -> dict[str, Usage]:
    assert plan.platform is not None
    result = {}
    for env in plan.platform.environments:
        specs = [d for d in plan.deployments if d.environment.name == env.name]
        demands = [demand(spec) for spec in specs]
        result[env.name] = Usage(
            min_replicas=sum(spec.min_replicas for spec in specs),
            max_replicas=sum(spec.max_replicas for spec in specs),
            cpu_millis=sum(d.cpu_millis for d in demands),
            memory_bytes=sum(d.memory_bytes for d in demands),
            gpus=sum(d.gpus for d in demands),
            pods=sum(d.pods for d in demands),
            quota_cpu=env.quota.cpu,
            quota_memory=env.quota.memory,
            quota_gpus=env.quota.gpus,
            quota_pods=env.quota.pods,
            surge=update_surge(demands),
        )
    return result


def waivers(plan: Plan) -> dict[str, tuple[tuple[str, str], ...]]:
    """``spec.policy.waivers`` as written, read from the raw document so the diff does not
    depend on how (or whether) the policy engine models them."""
    result = {}
    for model in plan.models:
        spec = model.document.data.get("spec", {})
        policy = spec.get("policy", {}) if isinstance(spec, dict) else {}
        entries = policy.get("waivers", []) if isinstance(policy, dict) else []
        result[model.name] = tuple(
            sorted(
                (str(entry.get("rule", "")), str(entry.get("reason", "")))
                for entry in entries
                if isinstance(entry, dict)
            )
        )
    return result


def render_side(layout: RepoLayout, label: str, ref: str | None) -> tuple[Side, list[Problem]]:
    """Render the inputs under ``layout``; problems name files as ``REF:path`` for a ref."""
    if not layout.environments_file.is_file() and not layout.model_names():
        return Side(label, None), []
    plan = make_plan(layout)
    if not plan.ok:
        errors = [p for p in plan.problems if p.severity.value == "error"]
        return Side(label, None), [replace(p, file=f"{ref}:{p.file}") if ref else p for p in errors]
    return Side(label, plan, fingerprints(plan), usage(plan), waivers(plan)), []


def _normalise_generated_names(objects: list[Object]) -> list[Object]:
    """Replace hashed ConfigMap/Secret names by their base name everywhere in the overlay,
    so a changed config reads as changed data, not as one object removed and another added."""
    renames = {}
    for obj in objects:
        name = obj.get("metadata", {}).get("name", "")
        match = _HASH_SUFFIX.match(name)
        if obj.get("kind") in _GENERATED_KINDS and match:
            renames[name] = match.group("base")

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, str):
            return renames.get(value, value)
        return value

    return [walk(obj) for obj in objects] if renames else objects


def build(side: Side, keys: Iterable[str]) -> tuple[dict[str, list[Object]], list[Problem]]:
    """Build the overlays ``keys`` of ``side`` with kustomize; key -> built objects."""
    if side.plan is None:
        return {}, []
    wanted = sorted(set(keys) & set(side.fingerprints))
    if not wanted:
        return {}, []
    built: dict[str, list[Object]] = {}
    problems = []
    with tempfile.TemporaryDirectory(prefix="mlgitops-diff-build-") as scratch:
        materialize(side.plan.files, Path(scratch))
        results = kustomize.build_many(Path(scratch), [f"overlays/{key}" for key in wanted])
    for key, result in zip(wanted, results, strict=True):
        if not result.ok:
            where = f"overlays/{key}/kustomization.yaml"
            message = f"{side.label}: kustomize build failed: {result.error}"
            problems.append(Problem(where, 0, 0, message))
            continue
        objects = load_all_core(result.output)
        built[key] = _normalise_generated_names(objects)
    return built, problems


def affected(base: Mapping[str, str], head: Mapping[str, str]) -> list[str]:
    """Overlays present on one side only, or whose inputs differ."""
    return sorted(key for key in set(base) | set(head) if base.get(key) != head.get(key))


def environment_order(side: Side) -> list[str]:
    if side.plan is None or side.plan.platform is None:
        return []
    return side.plan.platform.environment_names
