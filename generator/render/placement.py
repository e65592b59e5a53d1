"""Pod placement of a model in an environment: topology spread and priority.

Every constraint selects the model's own pods (its selector label) and, where the target
Kubernetes version has the fields:

- ``matchLabelKeys: [pod-template-hash]`` (beta and on by default since 1.27): the spread is
  computed within one rollout's ReplicaSet, so the surge pods of a rolling update are not
  blocked by the old pods they replace;
- ``nodeTaintsPolicy: Honor`` (beta and on by default since 1.26): nodes whose taints the pod
  does not tolerate (cordoned, not ready, another team's pool) are not counted as empty
  domains, which under ``DoNotSchedule`` would keep pods pending during a node drain.

Nodes outside the model's node pool are already left out (``nodeAffinityPolicy`` defaults to
Honor), so a hard spread over hostnames never blocks a pool with fewer nodes than replicas: it
only forbids piling replicas on one node while another has fewer.
"""

from __future__ import annotations

from typing import Any

from generator.load.platform import Placement
from generator.render.labels import selector

Object = dict[str, Any]
MATCH_LABEL_KEYS_SINCE = (1, 27)
NODE_TAINTS_POLICY_SINCE = (1, 26)
POD_TEMPLATE_HASH = "pod-template-hash"


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


def spread_constraints(
    model: str,
    placement: Placement,
    hash_label: str = POD_TEMPLATE_HASH,
    pods: Object | None = None,
) -> list[Object]:
    """The pod's ``topologySpreadConstraints`` (empty when the environment turns them off).

    ``hash_label`` is the label that tells one rollout's pods from another's: the Deployment
    controller's ``pod-template-hash``, or ``rollouts-pod-template-hash`` where an Argo Rollout
    runs the pods (it sets no ``pod-template-hash``, and a key the pod lacks is ignored).
    ``pods`` is the label selector of the model's pods (default: its selector label), wider
    where a controller copies them under other labels (Flagger's ``<model>-primary``).
    """
    version = _version(placement.kubernetes_version)
    constraints = []
    for spread in placement.spread:
        constraint: Object = {
            "maxSkew": spread.max_skew,
            "topologyKey": spread.topology_key,
            "whenUnsatisfiable": spread.when_unsatisfiable,
            "labelSelector": pods or {"matchLabels": selector(model)},
        }
        if spread.min_domains is not None:
            constraint["minDomains"] = spread.min_domains
        if version >= MATCH_LABEL_KEYS_SINCE:
            constraint["matchLabelKeys"] = [hash_label]
        if version >= NODE_TAINTS_POLICY_SINCE:
            constraint["nodeTaintsPolicy"] = "Honor"
        constraints.append(constraint)
    return constraints


def pod_placement(
    model: str,
    placement: Placement,
    hash_label: str = POD_TEMPLATE_HASH,
    pods: Object | None = None,
) -> Object:
    """Pod spec fields an overlay patch sets: spread constraints and the priority class
    (``hash_label`` and ``pods`` as in `spread_constraints`)."""
    fields: Object = {}
    constraints = spread_constraints(model, placement, hash_label, pods)
    if constraints:
        fields["topologySpreadConstraints"] = constraints
    if placement.priority_class_name:
        fields["priorityClassName"] = placement.priority_class_name
    return fields
