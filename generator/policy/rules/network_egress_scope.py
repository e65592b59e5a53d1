"""A workload's pods are egress-isolated, and reach only declared destinations.

Pods that no NetworkPolicy with ``policyTypes: [Egress]`` selects may open connections to any
address: a compromised model server could reach the cloud metadata service, other teams'
databases or the internet. mlgitops renders a per-model policy whose egress is exactly
model.yaml's ``spec.network.egress`` (the namespace adds DNS and the log aggregator); an
egress rule without ``to``, or to every namespace or address, defeats it.

PASS::

    kind: NetworkPolicy
    spec:
      podSelector: {matchLabels: {app.kubernetes.io/name: iris-classifier}}
      policyTypes: [Ingress, Egress]
      egress:
      - to: [{podSelector: {matchLabels: {app.kubernetes.io/name: diabetes-db}}}]
        ports: [{port: 5432}]

FAIL::

    kind: NetworkPolicy
    spec:
      podSelector: {matchLabels: {app.kubernetes.io/name: iris-classifier}}
      policyTypes: [Ingress]            # no Egress: every destination is open
      egress:
      - ports: [{port: 443}]            # no 'to': every destination on 443
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import (
    Object,
    objects_of_kind,
    open_rules,
    pod_spec,
    selects,
    violation,
)
from generator.problems import Problem

ID = "MLG131"
SEVERITY = "error"
HINT = (
    "declare the destinations the model needs in model.yaml (spec.network.egress, each with "
    "namespace/podLabels or cidr and ports); mlgitops renders exactly those"
)


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    if obj.get("kind") == "NetworkPolicy":
        yield from open_rules(obj, "egress", "to", "it reaches everything", HINT)
        return
    pod = pod_spec(obj)
    if pod is None:
        return
    isolating = [
        p
        for p in objects_of_kind(context.objects, "NetworkPolicy")
        if "Egress" in ((p.get("spec") or {}).get("policyTypes") or [])
        and selects((p.get("spec") or {}).get("podSelector"), pod.labels)
    ]
    if not isolating:
        yield violation("no NetworkPolicy restricts the egress of its pods", HINT)
