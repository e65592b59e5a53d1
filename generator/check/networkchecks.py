"""Network declarations the API server or the NetworkPolicy semantics would get wrong, checked
at the input: a peer is pods or an IP block (never both), an IP block is a network address,
and the log aggregator's location is known."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from generator.load.platform import Environment, Platform
from generator.load.yamlsource import Document
from generator.problems import Problem

Path = tuple[str | int, ...]


LABEL_PREFIX_MAX = 253


def label_key_problem(key: str) -> str | None:
    """What the API server would say of a label key the schema's pattern lets through: the
    pattern bounds the name part (63), not the DNS-subdomain prefix (253)."""
    prefix, _, _ = key.rpartition("/")
    if len(prefix) > LABEL_PREFIX_MAX:
        return f"the prefix of label key {key[:40]!r}... is {len(prefix)} characters, over 253"
    return None


def check_peer(document: Document, path: Path, peer: Mapping[str, Any]) -> Iterator[Problem]:
    """``peer`` as written at ``path`` (a networkPeer or an egressRule)."""
    for key in peer.get("podLabels") or {}:
        problem = label_key_problem(str(key))
        if problem:
            yield document.problem(
                (*path, "podLabels", key), problem, "shorten the prefix", key=True
            )
    cidr = peer.get("cidr")
    if cidr is None:
        return
    if "namespace" in peer or "podLabels" in peer:
        yield document.problem(
            (*path, "cidr"),
            "a peer is either pods (namespace, podLabels) or an IP block (cidr), not both",
            "split it into two entries",
        )
    try:
        ipaddress.ip_network(cidr, strict=True)
    except ValueError as error:
        hint = "write an IP block such as 10.20.0.0/16"
        try:
            network = ipaddress.ip_network(cidr, strict=False)
            hint = f"write the network address: cidr: {network}"
        except ValueError:
            pass
        yield document.problem((*path, "cidr"), f"cidr {cidr!r} is not an IP block: {error}", hint)


def check_peers(document: Document, path: Path, peers: Sequence[Any]) -> Iterator[Problem]:
    for index, peer in enumerate(peers):
        if isinstance(peer, Mapping):
            yield from check_peer(document, (*path, index), peer)


def check_environment_network(platform: Platform, env: Environment) -> Iterator[Problem]:
    raw = platform.document.data["environments"][env.index]
    path: Path = ("environments", env.index)
    network = raw.get("network") or {}
    for field in ("callers", "scrapers"):
        yield from check_peers(platform.document, (*path, "network", field), network.get(field, []))
    if "dns" in network:
        yield from check_peer(platform.document, (*path, "network", "dns"), network["dns"])
    aggregator = (raw.get("logging") or {}).get("fluentd", {}).get("aggregator") or {}
    aggregator_path = (*path, "logging", "fluentd", "aggregator")
    if "peer" in aggregator:
        yield from check_peer(platform.document, (*aggregator_path, "peer"), aggregator["peer"])
    if env.fluentd is not None and env.fluentd.aggregator_peer is None:
        yield platform.document.problem(
            (*aggregator_path, "host"),
            f"cannot tell where aggregator host {env.fluentd.aggregator_host!r} runs, so the "
            "namespace's egress policy cannot let the sidecars reach it",
            "write the host as <service>.<namespace>.svc.cluster.local, or declare "
            "peer: {namespace: <its namespace>} or peer: {cidr: <its addresses>}",
        )


def check_model_network(document: Document, egress: Sequence[Any]) -> Iterator[Problem]:
    yield from check_peers(document, ("spec", "network", "egress"), egress)
