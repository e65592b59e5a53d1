"""Reading pods out of built Kubernetes objects, shared by the rules so each stays short."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from generator.problems import Problem

Object = Mapping[str, Any]

_TEMPLATE_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "Rollout"}
)
# Labels Flagger renames to "<value>-primary" on the primary copy of a Deployment (the default
# of its -selector-labels flag, docs.flagger.app "How it works").
FLAGGER_SELECTOR_LABELS = ("app", "name", "app.kubernetes.io/name")
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def violation(message: str, hint: str) -> Problem:
    """A finding without a location: the engine adds file, position, rule and severity."""
    return Problem("", 0, 0, message, hint)


@dataclass(frozen=True)
class PodSpec:
    path: str
    spec: Mapping[str, Any]
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Container:
    """One container of a pod; ``path`` names it for messages, matched by name not index."""

    path: str
    kind: str
    data: Mapping[str, Any]

    def security(self, key: str) -> Any:
        context = self.data.get("securityContext") or {}
        return context.get(key)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def pod_spec(obj: Object) -> PodSpec | None:
    """The pod template of a workload (or the spec of a bare Pod); None for other kinds."""
    kind = obj.get("kind")
    spec = _mapping(obj.get("spec"))
    if kind == "Pod":
        return PodSpec("spec", spec, _mapping(_mapping(obj.get("metadata")).get("labels")))
    if kind == "CronJob":
        spec = _mapping(_mapping(spec.get("jobTemplate")).get("spec"))
        prefix = "spec.jobTemplate.spec.template"
    elif kind == "Rollout" and "workloadRef" in spec:
        return None  # its pods are the referenced Deployment's, checked there
    elif kind in _TEMPLATE_KINDS:
        prefix = "spec.template"
    else:
        return None
    template = _mapping(spec.get("template"))
    labels = _mapping(_mapping(template.get("metadata")).get("labels"))
    return PodSpec(f"{prefix}.spec", _mapping(template.get("spec")), labels)


def containers(pod: PodSpec, lists: tuple[str, ...] = CONTAINER_LISTS) -> Iterator[Container]:
    for kind in lists:
        for item in pod.spec.get(kind) or []:
            data = _mapping(item)
            yield Container(f"{pod.path}.{kind}[{data.get('name', '?')}]", kind, data)


def selects(selector: Any, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector semantics: an empty selector selects every pod."""
    selector = _mapping(selector)
    for key, value in _mapping(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key")
        operator = expression.get("operator")
        values = expression.get("values") or []
        present = key in labels
        if operator == "In" and not (present and labels[key] in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def objects_of_kind(objects: tuple[Object, ...], kind: str) -> Iterator[Object]:
    return (obj for obj in objects if obj.get("kind") == kind)


def name_of(obj: Object) -> str:
    return str(_mapping(obj.get("metadata")).get("name", "?"))


def _targets(ref: Any, obj: Object) -> bool:
    ref = _mapping(ref)
    return bool(ref.get("kind") == obj.get("kind") and ref.get("name") == name_of(obj))


def scaled_as(obj: Object, objects: tuple[Object, ...]) -> tuple[str, str]:
    """(kind, name) of what scales ``obj``'s pods: the Argo Rollout whose ``workloadRef``
    names this Deployment, else ``obj`` itself."""
    for rollout in objects_of_kind(objects, "Rollout"):
        if _targets(_mapping(rollout.get("spec")).get("workloadRef"), obj):
            return "Rollout", name_of(rollout)
    return str(obj.get("kind")), name_of(obj)


def replica_bound(obj: Object, objects: tuple[Object, ...], bound: str) -> int:
    """``bound`` (``minReplicas`` or ``maxReplicas``) of the autoscaler that targets what scales
    ``obj``'s pods (``scaled_as``: the workload, or the Argo Rollout that scales it), else the
    workload's own ``replicas`` (1 when unset)."""
    kind, name = scaled_as(obj, objects)
    for hpa in objects_of_kind(objects, "HorizontalPodAutoscaler"):
        spec = _mapping(hpa.get("spec"))
        target = _mapping(spec.get("scaleTargetRef"))
        if target.get("kind") == kind and target.get("name") == name:
            return int(spec.get(bound, 1))
    return int(_mapping(obj.get("spec")).get("replicas", 1))


def pod_label_sets(
    obj: Object, pod: PodSpec, objects: tuple[Object, ...]
) -> list[Mapping[str, str]]:
    """Every label set the workload's pods run with: the template's, and for a Deployment that a
    Flagger Canary targets, also its primary copy's (Flagger appends ``-primary`` to the
    selector labels there)."""
    sets: list[Mapping[str, str]] = [pod.labels]
    for canary in objects_of_kind(objects, "Canary"):
        if _targets(_mapping(canary.get("spec")).get("targetRef"), obj):
            sets.append(
                {
                    key: f"{value}-primary" if key in FLAGGER_SELECTOR_LABELS else value
                    for key, value in pod.labels.items()
                }
            )
    return sets


def primary_note(labels: Mapping[str, str], pod: PodSpec) -> str:
    """Words for a finding about one of `pod_label_sets`: empty for the template's own."""
    return "" if labels is pod.labels else f" as Flagger's primary copy runs them ({dict(labels)})"


_EVERY_ADDRESS = frozenset({"0.0.0.0/0", "::/0"})


def open_peer(peer: Any) -> str:
    """Why a NetworkPolicyPeer admits everything ('' when it does not): every namespace, or
    every address."""
    peer = _mapping(peer)
    namespaces = peer.get("namespaceSelector")
    if (
        isinstance(namespaces, Mapping)
        and not namespaces.get("matchLabels")
        and not (namespaces.get("matchExpressions"))
    ):
        return "selects every namespace (namespaceSelector: {})"
    cidr = _mapping(peer.get("ipBlock")).get("cidr")
    if cidr in _EVERY_ADDRESS and not _mapping(peer.get("ipBlock")).get("except"):
        return f"admits every address (ipBlock {cidr})"
    return ""


def open_rules(
    policy: Object, section: str, peers_key: str, unbounded: str, hint: str
) -> Iterator[Problem]:
    """A NetworkPolicy's ``section`` rules ("ingress" with peers under "from", "egress" with
    "to") that admit everything: a rule without peers (``unbounded`` says what it then
    admits), or a peer that `open_peer` finds open."""
    for index, rule in enumerate(_mapping(policy.get("spec")).get(section) or []):
        peers = _mapping(rule).get(peers_key) or []
        if not peers:
            yield violation(f"spec.{section}[{index}] has no '{peers_key}': {unbounded}", hint)
        for peer_index, peer in enumerate(peers):
            reason = open_peer(peer)
            if reason:
                yield violation(f"spec.{section}[{index}].{peers_key}[{peer_index}] {reason}", hint)
