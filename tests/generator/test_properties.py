"""Properties (hypothesis): any schema-valid model renders objects that pass strict Kubernetes
validation and a real ``kustomize build``, with its config values intact; and no mutation of a
valid model.yaml ever produces a traceback or an error without a file and a line."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.check.semantic import RESERVED_CONFIG, SECRET_WORDS
from generator.layout import RepoLayout
from generator.load.yamlsource import load_all_core
from generator.pipeline import make_plan
from generator.verify.objects import verify_objects
from generator.verify.overlays import build_one, verify_builds
from tests.conftest import run_cli
from tests.generator.conftest import ARTIFACT_SHA256, build_repo, model_yaml

# Quotas large enough that no generated model can overflow them: quota checks have their own
# tests; here every schema-valid model must go through.
PLATFORM = """\
apiVersion: mlgitops/v1
kind: Platform
registry: registry.example.com/ml
kubernetesVersion: "1.33"
repository: {url: https://github.com/acme/ml-deployments.git}
environments:
  - name: dev
    namespace: ml-dev
    cluster: https://kubernetes.default.svc
    nodePools:
      cpu: {nodeSelector: {pool: cpu}}
    quota: {cpu: "100000000", memory: 100000Ti, pods: 100000000}
    logging:
      fluentd:
        enabled: true
        image: fluent/fluentd:v1.17-1
        aggregator: {host: fluentd.logging.svc.cluster.local, port: 24224}
    defaults:
      scaling: {targetCPUUtilization: 80}
  - name: prod
    namespace: ml-prod
    cluster: https://kubernetes.default.svc
    nodePools:
      cpu: {nodeSelector: {pool: cpu}}
      gpu:
        nodeSelector: {pool: gpu}
        tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
    quota: {cpu: "100000000", memory: 100000Ti, gpus: 100000000, pods: 100000000}
"""

TRICKY = ["on", "off", "yes", "no", "y", "0777", "1e3", "0x1F", "null", "~", ":", "#", "- a",
          "a: b", "{x}", "[1]", "'", '"', "%", "@", "`", "!", "&a", "*a", "", " lead", "trail ",
          "a=b", "multi\nline", "tab\there", "\u00e9t\u00e9", "true", ".inf", "="]  # fmt: skip

dns_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?", fullmatch=True)
# Model names also name a Service: DNS-1035, starting with a letter.
model_name = st.from_regex(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?", fullmatch=True)
# A CPU request is never zero (the autoscaler divides by it).
cpu = st.one_of(
    st.integers(1, 64_000).map(lambda n: f"{n}m"),
    st.integers(1, 64).map(str),
    st.tuples(st.integers(0, 63), st.integers(1, 999)).map(lambda t: f"{t[0]}.{t[1]}"),
)
# Memory for any number of workers (generator.check.sizing: 60 MiB + 64 x 44 MiB = 2876 MiB).
memory = st.one_of(
    st.tuples(st.integers(2876, 65536), st.sampled_from(["Mi"])),
    st.tuples(st.integers(3016, 65536), st.sampled_from(["M"])),
    st.tuples(st.integers(2_945_025, 67_108_864), st.sampled_from(["Ki"])),
    st.tuples(st.integers(3_015_705, 67_108_864), st.sampled_from(["k"])),
    st.tuples(st.integers(3_015_704_577, 2**36), st.sampled_from([""])),
    st.tuples(st.integers(4, 64), st.sampled_from(["G", "Gi"])),
).map(lambda t: f"{t[0]}{t[1]}")
_SECRETISH = re.compile("|".join(SECRET_WORDS))
config_key = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True).filter(
    lambda k: not _SECRETISH.search(k.upper()) and k not in RESERVED_CONFIG
)
config_value = st.one_of(
    st.sampled_from(TRICKY),
    st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=12),
)
config = st.dictionaries(config_key, config_value, max_size=4)


@st.composite
def scaling(draw: st.DrawFn) -> dict[str, int]:
    low, high = sorted(draw(st.lists(st.integers(1, 1000), min_size=2, max_size=2)))
    result = {"minReplicas": low, "maxReplicas": high}
    if draw(st.booleans()):
        result["targetCPUUtilization"] = draw(st.integers(1, 100))
    return result


def optional(
    draw: st.DrawFn, target: dict[str, Any], key: str, value: st.SearchStrategy[Any]
) -> None:
    if draw(st.booleans()):
        target[key] = draw(value)


@st.composite
def tunables(draw: st.DrawFn, *, gpu_allowed: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        resources = {"cpu": draw(cpu), "memory": draw(memory)}
        spec["resources"] = {k: v for k, v in resources.items() if draw(st.booleans())}
    optional(draw, spec, "accelerator", st.sampled_from(["cpu", "gpu"] if gpu_allowed else ["cpu"]))
    optional(draw, spec, "gpus", st.integers(1, 16))
    optional(draw, spec, "scaling", scaling())
    optional(
        draw,
        spec,
        "logging",
        st.fixed_dictionaries(
            {},
            optional={
                "fluentd": st.booleans(),
                "level": st.sampled_from(["debug", "info", "warning", "error"]),
            },
        ),
    )
    optional(draw, spec, "config", config)
    return spec


@st.composite
def models(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "version": draw(
            st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9._-]{0,19}[A-Za-z0-9])?", fullmatch=True)
        ),
        "artifact": {"path": "model.onnx", "sha256": ARTIFACT_SHA256},
    }
    spec.update(draw(tunables(gpu_allowed=False)))
    optional(
        draw,
        spec,
        "server",
        st.fixed_dictionaries(
            # At most 10 workers fit the default 512Mi (generator.check.sizing: 60 + 10 x 44 MiB).
            {},
            optional={"workers": st.integers(1, 10), "threads": st.integers(1, 64)},
        ),
    )
    taken = set(spec.get("config", {}))
    refs = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "env": config_key.filter(lambda k: k not in taken),
                    "secret": dns_label,
                    # IsConfigMapKey: never '.', '..' or starting with '..'.
                    "key": st.from_regex(r"[-._a-zA-Z0-9]{1,20}", fullmatch=True).filter(
                        lambda k: not k.startswith("..") and k != "."
                    ),
                }
            ),
            max_size=2,
            unique_by=lambda ref: ref["env"],
        )
    )
    if refs:
        spec["secretRefs"] = refs
    overrides: dict[str, Any] = {}
    for env, gpu_allowed in (("dev", False), ("prod", True)):
        if draw(st.booleans()):
            override = draw(tunables(gpu_allowed=gpu_allowed))
            optional(draw, override, "enabled", st.booleans())
            overrides[env] = override
    for override in overrides.values():
        for key in list(override.get("config", {})):
            if key in {ref["env"] for ref in refs}:
                del override["config"][key]
    if draw(st.booleans()):  # GPU by default, so dev (no GPU pool) must opt out
        spec["accelerator"] = "gpu"
        overrides.setdefault("dev", {})["accelerator"] = "cpu"
    if overrides:
        spec["environments"] = overrides
    description = draw(st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=30))
    return {
        "apiVersion": "mlgitops/v1",
        "kind": "Model",
        "metadata": {
            "name": draw(model_name),
            "owner": draw(dns_label),
            "description": description,
        },
        "spec": spec,
    }


def effective_config(model: dict[str, Any], env: str) -> dict[str, str]:
    spec = model["spec"]
    override = spec.get("environments", {}).get(env, {})
    return {**spec.get("config", {}), **override.get("config", {})}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(model=models())
def test_any_schema_valid_model_builds_and_passes_strict_validation(model: dict[str, Any]) -> None:
    name = model["metadata"]["name"]
    with tempfile.TemporaryDirectory() as scratch:
        root = build_repo(
            Path(scratch),
            {
                "environments.yaml": PLATFORM,
                # JSON is YAML 1.2 with every string quoted: what a careful author writes.
                f"models/{name}/model.yaml": json.dumps(model, indent=2, ensure_ascii=False),
            },
            defaults=False,
        )
        plan = make_plan(RepoLayout(root))
        assert plan.problems == []
        assert verify_objects(plan) == []
        problems, built = verify_builds(plan)
        assert problems == []
        assert built > 0
        for spec in plan.deployments:
            output = build_one(plan, name, spec.environment.name).output
            # The model's own ConfigMap; a Fluentd sidecar brings a second one (fluent.conf).
            (configmap,) = [
                o
                for o in load_all_core(output)
                if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith(f"{name}-config-")
            ]
            wanted = effective_config(model, spec.environment.name)
            assert {k: configmap["data"].get(k) for k in wanted} == wanted


VALID_MODEL = model_yaml(
    spec="""\
accelerator: cpu
scaling: {minReplicas: 1, maxReplicas: 2, targetCPUUtilization: 70}
server: {workers: 2, threads: 1}
logging: {fluentd: true, level: info}
config:
  FEATURE_FLAG: "on"
  MODE: fast
secretRefs:
  - {env: DB_PASSWORD, secret: fraud-db, key: password}
environments:
  dev:
    scaling: {minReplicas: 1, maxReplicas: 1}
  prod: {accelerator: gpu, gpus: 1}"""
)
SNIPPETS = ["\n", " ", "  ", "\t", ":", ": ", "- ", "-", "#", "'", '"', "{", "}", "[", "]", ",",
            "&a ", "*a", "!!python/object:os.system ", "!x ", "? ", "|", ">", "---\n", "...\n",
            "%YAML 1.1\n", "<<: ", "\ufeff", "\u00e9", "\x00", "\r\n", "0", "-1", "1e999",
            "null", "on", "gpu", "\\"]  # fmt: skip
LOCATED = re.compile(r"models/fraud/model\.yaml:(\d+):(\d+): .+")


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    text = VALID_MODEL
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace", "duplicate-line"]))
        if action == "insert":
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)) :]
        elif action == "replace":
            text = text[:at] + draw(st.sampled_from(SNIPPETS)) + text[at + 1 :]
        else:
            lines = text.splitlines(keepends=True)
            index = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[: index + 1] + lines[index:])
    raw = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + b"\xff" + raw[at:]
    return raw


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=mutated())
def test_mutated_model_never_crashes_and_every_error_is_located(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = build_repo(Path(scratch), {"models/fraud/model.yaml": raw})
        outcome = run_cli("validate", "--skip-build", root=root)

    assert outcome.exit_code in (0, 1), outcome.stderr
    if outcome.exit_code == 0:
        return
    lines = outcome.stderr.splitlines()
    assert lines
    last_line = max(1, len(raw.decode("utf-8", "replace").splitlines()))
    for line in lines:
        if line.startswith("  hint: "):
            continue
        match = LOCATED.fullmatch(line)
        assert match, line
        assert 1 <= int(match[1]) <= last_line, line
