"""Input values that reach a Kubernetes field, held to the API server's rule for that field.

The JSON Schemas catch the shape of the inputs; this module applies the rules of
`generator.check.apirules` to each input that becomes a name, a label, a toleration, a node selector
or a quantity, and says so at the input's own position, with the fix. (`generator.verify.fields`
walks the rendered objects afterwards, so a value this module does not know about is still
refused, if less precisely.)
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.check import apirules
from generator.check.sizing import MemoryNeed, round_up
from generator.load.modelspec import ModelSource
from generator.load.platform import Environment, Platform
from generator.problems import Problem
from generator.quantities import format_bytes, memory_bytes
from generator.resolve import is_enabled, merged_tunables, origin

MIB = 2**20


def _first(errors: list[str]) -> str:
    return "; ".join(errors)


def check_platform_values(platform: Platform) -> Iterator[Problem]:
    """Node pools' selectors, tolerations and GPU resource names of every environment."""
    doc = platform.document
    for index, env in enumerate(doc.data.get("environments", [])):
        for pool_name, pool in env.get("nodePools", {}).items():
            path = ("environments", index, "nodePools", pool_name)
            for key, value in pool.get("nodeSelector", {}).items():
                if errors := apirules.qualified_name(key):
                    yield doc.problem(
                        (*path, "nodeSelector", key),
                        f"nodeSelector key {key!r} is not a valid label key: {_first(errors)}",
                        "use the node label's key as `kubectl get nodes --show-labels` prints "
                        "it, such as pool or example.com/pool",
                        key=True,
                    )
                if errors := apirules.label_value(str(value)):
                    yield doc.problem(
                        (*path, "nodeSelector", key),
                        f"nodeSelector {key}={value!r} is not a valid label value: "
                        f"{_first(errors)}",
                        "use the node label's value exactly, such as cpu-prod",
                    )
            for number, item in enumerate(pool.get("tolerations", [])):
                for error in apirules.toleration(item):
                    yield doc.problem(
                        (*path, "tolerations", number),
                        f"toleration {number} of nodePools.{pool_name}: {error}",
                        "write it as the node's taint reads, e.g. {key: dedicated, "
                        "operator: Equal, value: ml, effect: NoSchedule}",
                    )
            if "resourceName" in pool and (
                errors := apirules.extended_resource_name(pool["resourceName"])
            ):
                yield doc.problem(
                    (*path, "resourceName"),
                    f"resourceName {pool['resourceName']!r} is not an extended resource "
                    f"name: {_first(errors)}",
                    "use the name the device plugin advertises, such as nvidia.com/gpu",
                )


def check_model_values(model: ModelSource) -> Iterator[Problem]:
    """Values of the model's own fields the schema cannot hold to their Kubernetes rule."""
    doc = model.document
    # The name (DNS-1035, for its Service) and the version (a label value) are held to
    # their rules by the schema's patterns.
    for index, ref in enumerate(model.secret_refs):
        if errors := apirules.config_map_key(ref.key):
            yield doc.problem(
                ("spec", "secretRefs", index, "key"),
                f"secretRefs[{index}].key {ref.key!r} is not a valid Secret key: {_first(errors)}",
                "use the key as `kubectl get secret -o yaml` lists it under data",
            )


def check_resolved_values(
    model: ModelSource, env: Environment, platform: Platform
) -> Iterator[Problem]:
    """Quantities and sizes as they resolve in one environment (a default may be the culprit)."""
    spec = merged_tunables(model, env)
    cpu, memory = spec["resources"]["cpu"], spec["resources"]["memory"]
    if apirules.zero(cpu):
        doc, path = origin(model, env, platform, ("resources", "cpu"))
        yield doc.problem(
            path,
            f"a CPU request of {cpu!r} leaves the HorizontalPodAutoscaler unable to "
            "compute utilisation (it divides usage by the request), so it never scales",
            "request the CPU one replica needs, e.g. cpu: 250m",
        )
    if memory_bytes(memory) < MIB:
        doc, path = origin(model, env, platform, ("resources", "memory"))
        bare = memory.isdigit()
        yield doc.problem(
            path,
            f"memory {memory!r} is {memory_bytes(memory)} bytes"
            + (" (no unit means bytes)" if bare else "")
            + "; the container would be killed as it starts",
            f"did you mean {memory}Mi?" if bare else "give the memory in Mi or Gi, e.g. 512Mi",
        )
    config = spec.get("config", {})
    if errors := apirules.config_map_size(config):
        doc, path = origin(model, env, platform, ("config",))
        yield doc.problem(
            path,
            f"the model's config ConfigMap {_first(errors)}",
            "move large values into the model artifact or a mounted volume",
        )


def check_memory(
    model: ModelSource, env: Environment, platform: Platform, artifact_bytes: int
) -> Iterator[Problem]:
    """Memory below what the workers and the artifact need at start (`generator.check.sizing`):
    every start would be OOM-killed, so the rollout would never finish."""
    spec = merged_tunables(model, env)
    memory = spec["resources"]["memory"]
    workers = spec["server"]["workers"]
    have = memory_bytes(memory)
    need = MemoryNeed(workers, artifact_bytes)
    if have < MIB or have >= need.total:
        return
    doc, path = origin(model, env, platform, ("resources", "memory"))
    fitting = need.workers_fitting(have)
    yield doc.problem(
        path,
        f"memory {memory} is less than {model.name} needs as it starts: "
        f"{need.arithmetic()}; every start would be OOM-killed",
        f"set memory: {format_bytes(round_up(need.total))}"
        + (f", or at most {fitting} worker(s) (server.workers)" if fitting else ""),
    )


def check_model_inputs(
    model: ModelSource, platform: Platform, artifact_bytes: int | None
) -> Iterator[Problem]:
    """The model's own values, then its values as resolved in each environment it runs in.
    ``artifact_bytes``: the artifact's size, None when it is missing (reported elsewhere)."""
    yield from check_model_values(model)
    for env in platform.environments:
        if is_enabled(model, env):
            yield from check_resolved_values(model, env, platform)
            if artifact_bytes is not None:
                yield from check_memory(model, env, platform, artifact_bytes)
