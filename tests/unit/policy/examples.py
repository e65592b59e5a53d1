"""Each policy rule's own PASS/FAIL examples (its module docstring, the documentation users
read), executed: the fragment is put into a small compliant overlay and the engine runs.

A fragment is placed by its shape: objects (with ``kind``, or a ``# no <Kind>`` comment that
removes that kind), a pod (``spec:``, replacing the pod spec), pod spec keys (``containers``,
``volumes``, merged into the pod spec) or container keys (merged into the server container).
A header ``(environment with requireDigest: true)`` sets that for the run.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import yaml

from generator.policy.engine import OverlayContext, check_objects
from generator.problems import Problem

DIGEST = "sha256:" + "4f1c" * 16
_POD_SPEC_KEYS = {"containers", "initContainers", "ephemeralContainers", "volumes"}
_HEADER = re.compile(r"^(PASS|FAIL)([^\n]*?)::\n\n((?:    .*\n|\n)+)", re.M)
_ABSENT = re.compile(r"#\s*(?:and\s+)?no (\w+)")

COMPLIANT = f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: iris-classifier, labels: {{app.kubernetes.io/name: iris-classifier}}}}
spec:
  replicas: 2
  selector: {{matchLabels: {{app.kubernetes.io/name: iris-classifier}}}}
  template:
    metadata: {{labels: {{app.kubernetes.io/name: iris-classifier}}}}
    spec:
      automountServiceAccountToken: false
      serviceAccountName: iris-classifier
      terminationGracePeriodSeconds: 45
      topologySpreadConstraints:
        - topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: DoNotSchedule
          maxSkew: 1
          labelSelector: {{matchLabels: {{app.kubernetes.io/name: iris-classifier}}}}
      securityContext:
        runAsNonRoot: true
        runAsUser: 10001
        seccompProfile: {{type: RuntimeDefault}}
      containers:
        - name: server
          image: registry.example.com/ml/iris-classifier@{DIGEST}
          ports: [{{name: http, containerPort: 8080}}]
          resources:
            requests: {{cpu: 250m, memory: 256Mi}}
            limits: {{memory: 256Mi}}
          readinessProbe: {{httpGet: {{path: /v2/health/ready, port: http}}}}
          livenessProbe: {{httpGet: {{path: /v2/health/live, port: http}}}}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities: {{drop: [ALL]}}
      volumes: [{{name: tmp, emptyDir: {{sizeLimit: 256Mi}}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {{name: iris-classifier}}
spec:
  minReplicas: 2
  maxReplicas: 4
  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: iris-classifier}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {{name: iris-classifier}}
spec: {{maxUnavailable: 1, selector: {{matchLabels: {{app.kubernetes.io/name: iris-classifier}}}}}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: iris-classifier}}
spec:
  podSelector: {{matchLabels: {{app.kubernetes.io/name: iris-classifier}}}}
  policyTypes: [Ingress, Egress]
---
apiVersion: v1
kind: ServiceAccount
metadata: {{name: iris-classifier}}
automountServiceAccountToken: false
"""


def compliant() -> list[dict[str, Any]]:
    """A small overlay (Deployment, HPA, PDB, NetworkPolicy, ServiceAccount) every rule passes."""
    return [doc for doc in yaml.safe_load_all(COMPLIANT) if doc]


@dataclass(frozen=True)
class Example:
    verdict: str
    """PASS or FAIL."""
    fragment: str
    require_digest: bool

    @property
    def id(self) -> str:
        return self.verdict.lower()


def examples(rule: ModuleType) -> list[Example]:
    """The PASS and FAIL examples of a rule module's docstring, in order."""
    found = [
        Example(
            verdict,
            "\n".join(line[4:] for line in body.splitlines()),
            "requireDigest: true" in header,
        )
        for verdict, header, body in _HEADER.findall(rule.__doc__ or "")
    ]
    assert {e.verdict for e in found} == {"PASS", "FAIL"}, rule.__name__
    return found


def _server(objects: list[dict[str, Any]]) -> dict[str, Any]:
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == "server")


def place(fragment: str) -> list[dict[str, Any]]:
    """The compliant overlay with ``fragment`` put in where its shape says."""
    objects = compliant()
    absent = set(_ABSENT.findall(fragment))
    docs = [doc for doc in yaml.safe_load_all(fragment) if doc]
    if absent or any("kind" in doc for doc in docs):
        objects = [o for o in objects if o["kind"] not in absent]
        for doc in docs:
            same = [i for i, o in enumerate(objects) if o["kind"] == doc["kind"]]
            if same:
                objects[same[0]] = {**objects[same[0]], **doc}
            else:
                objects.append({"metadata": {"name": "iris-classifier"}, **doc})
        return objects
    [doc] = docs
    template = next(o for o in objects if o["kind"] == "Deployment")["spec"]["template"]
    if set(doc) == {"spec"}:
        template["spec"] = copy.deepcopy(doc["spec"])
    elif set(doc) <= _POD_SPEC_KEYS:
        template["spec"].update(copy.deepcopy(doc))
    else:
        _server(objects).update(copy.deepcopy(doc))
    return objects


def findings(rule_id: str, objects: list[dict[str, Any]], *, require_digest: bool) -> list[Problem]:
    """What the engine reports for ``rule_id`` on ``objects``."""
    context = OverlayContext(overlay="prod/iris-classifier", require_digest=require_digest)
    return [p for p in check_objects(objects, context) if p.rule == rule_id]


def check_example(rule: ModuleType, example: Example) -> None:
    """A PASS example gives no finding of the rule, a FAIL example at least one."""
    found = findings(rule.ID, place(example.fragment), require_digest=example.require_digest)
    if example.verdict == "PASS":
        assert found == [], example.fragment
    else:
        assert found, example.fragment
        assert all(p.message and p.hint for p in found)
