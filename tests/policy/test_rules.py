"""Each rule against a real built overlay (PASS) and the same overlay with one defect (FAIL).

The PASS objects are what real kustomize builds from the example repository, so a renderer
change that breaks policy fails here, not in a cluster.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from generator.layout import RepoLayout
from generator.pipeline import make_plan
from generator.policy.engine import OverlayContext, all_rules, check_objects
from generator.verify.overlays import build_one
from tests.policy.conftest import REPO_ROOT

Objects = list[dict[str, Any]]
SERVER = "spec.template.spec.containers[server]"
SUBJECT = "prod/iris-classifier Deployment iris-classifier"


@pytest.fixture(scope="module")
def built() -> Objects:
    plan = make_plan(RepoLayout(REPO_ROOT), {"iris-classifier"})
    result = build_one(plan, "iris-classifier", "prod")
    assert result.ok, result.error
    return [o for o in yaml.safe_load_all(result.output) if o]


def _kind(objects: Objects, kind: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind)


def _pod(objects: Objects) -> dict[str, Any]:
    spec: dict[str, Any] = _kind(objects, "Deployment")["spec"]["template"]["spec"]
    return spec


def _server(objects: Objects) -> dict[str, Any]:
    container: dict[str, Any] = _pod(objects)["containers"][0]
    return container


def _drop(objects: Objects, kind: str) -> None:
    objects.remove(_kind(objects, kind))


def _findings(objects: Objects, rule: str, require_digest: bool = False) -> list[str]:
    context = OverlayContext("prod/iris-classifier", require_digest=require_digest)
    return [p.message for p in check_objects(objects, context) if p.rule == rule]


Defect = Callable[[Objects], None]
CASES: list[tuple[str, Defect, list[str]]] = [
    (
        "MLG101",
        lambda o: _server(o)["securityContext"].update(runAsNonRoot=False, runAsUser=0),
        [
            f"{SUBJECT}: {SERVER} may run as root (runAsNonRoot is not true)",
            f"{SUBJECT}: {SERVER} runs as user 0 (root)",
        ],
    ),
    (
        "MLG102",
        lambda o: _server(o)["securityContext"].pop("allowPrivilegeEscalation"),
        [f"{SUBJECT}: {SERVER}.securityContext.allowPrivilegeEscalation is not false"],
    ),
    (
        "MLG103",
        lambda o: _server(o)["securityContext"].update(
            capabilities={"drop": ["NET_RAW"], "add": ["SYS_ADMIN", "NET_BIND_SERVICE"]}
        ),
        [
            f"{SUBJECT}: {SERVER} does not drop ALL capabilities",
            f"{SUBJECT}: {SERVER} adds capabilities SYS_ADMIN",
        ],
    ),
    (
        "MLG104",
        lambda o: (
            _pod(o)["securityContext"].update(seccompProfile={"type": "Unconfined"}),
            _server(o)["securityContext"].pop("seccompProfile"),
        ),
        [
            f"{SUBJECT}: spec.template.spec.securityContext sets seccomp profile Unconfined",
            f"{SUBJECT}: {SERVER} runs with seccomp profile Unconfined",
        ],
    ),
    (
        "MLG105",
        lambda o: _pod(o)["volumes"].append({"name": "data", "nfs": {"server": "n", "path": "/"}}),
        [
            f"{SUBJECT}: spec.template.spec.volumes[data] is a nfs volume, "
            "which the restricted Pod Security Standard forbids"
        ],
    ),
    (
        "MLG106",
        lambda o: _server(o).update(resources={"requests": {"cpu": "1"}}),
        [f"{SUBJECT}: {SERVER} has no resources.requests.memory, resources.limits.memory"],
    ),
    (
        "MLG107",
        lambda o: _server(o).pop("readinessProbe"),
        [f"{SUBJECT}: {SERVER} has no readinessProbe"],
    ),
    (
        "MLG108",
        lambda o: _server(o).update(image="registry.example.com:5000/ml/iris-classifier"),
        [
            f"{SUBJECT}: {SERVER} image 'registry.example.com:5000/ml/iris-classifier' "
            "has no tag (means latest)"
        ],
    ),
    (
        "MLG110",
        lambda o: _drop(o, "PodDisruptionBudget"),
        [f"{SUBJECT}: runs at least 2 replicas but no PodDisruptionBudget selects its pods"],
    ),
    (
        "MLG111",
        lambda o: _kind(o, "HorizontalPodAutoscaler")["spec"].update(minReplicas=5),
        [
            "prod/iris-classifier HorizontalPodAutoscaler iris-classifier: "
            "minReplicas 5 is greater than maxReplicas 4"
        ],
    ),
    (
        "MLG112",
        lambda o: _kind(o, "NetworkPolicy")["spec"].update(
            podSelector={"matchLabels": {"app.kubernetes.io/name": "other"}}
        ),
        [f"{SUBJECT}: no NetworkPolicy selects its pods"],
    ),
    (
        "MLG113",
        lambda o: (
            _pod(o).pop("automountServiceAccountToken"),
            _kind(o, "ServiceAccount").pop("automountServiceAccountToken"),
        ),
        [f"{SUBJECT}: spec.template.spec mounts a service-account token"],
    ),
    (
        "MLG114",
        lambda o: (
            _pod(o).update(hostNetwork=True, volumes=[{"name": "h", "hostPath": {"path": "/"}}]),
            _server(o)["securityContext"].update(privileged=True),
            _server(o)["ports"][0].update(hostPort=8080),
        ),
        [
            f"{SUBJECT}: spec.template.spec.hostNetwork is true",
            f"{SUBJECT}: spec.template.spec.volumes[h] is a hostPath volume",
            f"{SUBJECT}: {SERVER} is privileged",
            f"{SUBJECT}: {SERVER} binds hostPort 8080",
        ],
    ),
    (
        "MLG130",
        lambda o: _kind(o, "NetworkPolicy")["spec"]["ingress"][0].pop("from"),
        [
            "prod/iris-classifier NetworkPolicy iris-classifier: spec.ingress[0] has no 'from': "
            "it admits every source"
        ],
    ),
    (
        "MLG131",
        lambda o: _kind(o, "NetworkPolicy")["spec"].update(
            policyTypes=["Ingress"], egress=[{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]
        ),
        [
            f"{SUBJECT}: no NetworkPolicy restricts the egress of its pods",
            "prod/iris-classifier NetworkPolicy iris-classifier: spec.egress[0].to[0] admits "
            "every address (ipBlock 0.0.0.0/0)",
        ],
    ),
    (
        "MLG132",
        lambda o: _pod(o).update(terminationGracePeriodSeconds=30),
        [
            f"{SUBJECT}: spec.template.spec.terminationGracePeriodSeconds 30 is shorter than "
            "the server's shutdown (DRAIN_SECONDS 5 + GRACEFUL_TIMEOUT 30); requests still "
            "running get SIGKILL (want at least 45)"
        ],
    ),
    (
        "MLG133",
        lambda o: (
            _server(o)["resources"]["limits"].update({"ephemeral-storage": "100Mi"}),
            _pod(o)["volumes"].append({"name": "scratch", "emptyDir": {}}),
        ),
        [
            f"{SUBJECT}: spec.template.spec.volumes[scratch] is an emptyDir without sizeLimit",
            f"{SUBJECT}: {SERVER} ephemeral-storage limit 100Mi is below the size limits of "
            "the emptyDirs it writes (256Mi)",
        ],
    ),
    (
        "MLG134",
        lambda o: _pod(o)["topologySpreadConstraints"][0].update(
            whenUnsatisfiable="ScheduleAnyway"
        ),
        [f"{SUBJECT}: may run 4 replicas, and nothing keeps two of them off the same node"],
    ),
    (
        "MLG135",
        lambda o: _server(o)["envFrom"][0]["configMapRef"].update(name="shared-config"),
        [
            f"{SUBJECT}: {SERVER}.envFrom reads ConfigMap 'shared-config', which this overlay "
            "does not generate: a change to it does not roll the pods"
        ],
    ),
]


@pytest.mark.parametrize("rule", [r.id for r in all_rules()])
def test_the_built_example_overlay_passes(built: Objects, rule: str) -> None:
    assert _findings(built, rule, require_digest=False) == []


@pytest.mark.parametrize(("rule", "defect", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_defect_fails_its_rule(
    built: Objects, rule: str, defect: Defect, expected: list[str]
) -> None:
    objects = copy.deepcopy(built)
    defect(objects)
    assert _findings(objects, rule) == expected


def test_digest_rule_passes_a_pin_and_fails_a_tag_where_required(built: Objects) -> None:
    pinned, tagged = copy.deepcopy(built), copy.deepcopy(built)
    _server(pinned)["image"] = "registry.example.com/ml/iris-classifier@sha256:" + "a" * 64
    _server(tagged)["image"] = "registry.example.com/ml/iris-classifier:1.0.0"
    assert _findings(pinned, "MLG109", require_digest=True) == []
    assert _findings(tagged, "MLG109", require_digest=False) == []
    assert _findings(tagged, "MLG109", require_digest=True) == [
        f"{SUBJECT}: {SERVER} image 'registry.example.com/ml/iris-classifier:1.0.0' is not "
        "pinned by digest, and this environment sets requireDigest: true"
    ]


def test_every_rule_is_documented_with_pass_and_fail_examples() -> None:
    ids = [rule.id for rule in all_rules()]
    assert ids == [f"MLG1{n:02d}" for n in [*range(1, 15), *range(30, 36)]]
    for rule in all_rules():
        assert "PASS" in rule.doc and "FAIL" in rule.doc, rule.id
        assert rule.severity.value in ("error", "warning")
        assert rule.hint, rule.id


def test_every_rule_has_a_fail_case() -> None:
    assert sorted({c[0] for c in CASES} | {"MLG109"}) == [r.id for r in all_rules()]


def test_digest_rule_covers_every_container_with_the_fix_where_it_is_set(built: Objects) -> None:
    objects = copy.deepcopy(built)
    _server(objects)["image"] = "registry.example.com/ml/iris-classifier@sha256:" + "a" * 64
    _pod(objects)["containers"].append({"name": "fluentd", "image": "fluent/fluentd:v1.17-1"})
    context = OverlayContext("prod/iris-classifier", require_digest=True)
    (finding,) = [p for p in check_objects(objects, context) if p.rule == "MLG109"]
    assert finding.message == (
        f"{SUBJECT}: spec.template.spec.containers[fluentd] image 'fluent/fluentd:v1.17-1' is "
        "not pinned by digest, and this environment sets requireDigest: true"
    )
    assert finding.hint == (
        "pin it where it is set, as fluent/fluentd:v1.17-1@sha256:<digest> (the Fluentd "
        "sidecar: logging.fluentd.image in environments.yaml); the registry shows the digest"
    )


def test_a_config_map_named_without_its_content_hash_does_not_roll_pods(built: Objects) -> None:
    objects = copy.deepcopy(built)
    config = next(o for o in objects if o["kind"] == "ConfigMap")
    config["metadata"]["name"] = "iris-classifier-config"
    _server(objects)["envFrom"][0]["configMapRef"]["name"] = "iris-classifier-config"
    assert _findings(objects, "MLG135") == [
        f"{SUBJECT}: {SERVER}.envFrom reads ConfigMap 'iris-classifier-config', whose name "
        "carries no content hash: a change to it does not roll the pods"
    ]
