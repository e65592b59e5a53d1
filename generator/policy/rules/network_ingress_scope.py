"""A NetworkPolicy admits ingress only from declared peers, never from every source.

An ingress rule without ``from`` (or with an empty list) admits every pod of every namespace
and every address; a peer ``namespaceSelector: {}`` admits every namespace; an ``ipBlock`` of
``0.0.0.0/0`` or ``::/0`` admits every address. mlgitops renders the callers and scrapers that
environments.yaml declares (``network``), and the model's own namespace when it declares none.

PASS::

    kind: NetworkPolicy
    spec:
      podSelector: {matchLabels: {app.kubernetes.io/name: iris-classifier}}
      policyTypes: [Ingress, Egress]
      ingress:
      - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: gateway}}}]
        ports: [{port: http}]

FAIL::

    kind: NetworkPolicy
    spec:
      podSelector: {matchLabels: {app.kubernetes.io/name: iris-classifier}}
      policyTypes: [Ingress, Egress]
      ingress:
      - ports: [{port: http}]
"""

from __future__ import annotations

from collections.abc import Iterator

from generator.policy.engine import OverlayContext
from generator.policy.workloads import Object, open_rules
from generator.problems import Problem

ID = "MLG130"
SEVERITY = "error"
HINT = (
    "declare who may call and scrape the models in environments.yaml "
    "(network.callers, network.scrapers); mlgitops renders exactly those"
)


def check(obj: Object, context: OverlayContext) -> Iterator[Problem]:
    if obj.get("kind") == "NetworkPolicy":
        yield from open_rules(obj, "ingress", "from", "it admits every source", HINT)
