"""The Kubernetes API server's validation rules, as tables of values it accepts and refuses.

Each table follows the upstream rule and its own unit tests' kind of cases (valid and invalid
values side by side): ``k8s.io/apimachinery/pkg/util/validation/validation.go`` (DNS labels and
subdomains, qualified names, label values, port names and numbers, ConfigMap keys, environment
variable names), ``k8s.io/apimachinery/pkg/api/resource/quantity.go`` (the quantity grammar),
``k8s.io/apimachinery/pkg/api/validation/objectmeta.go`` (annotations) and
``k8s.io/kubernetes/pkg/apis/core/validation/validation.go`` (tolerations, resource
requirements, Service names). The expected value is the API server's verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from generator.check import apirules
from generator.quantities import parse_quantity

ACCEPTED, REFUSED = True, False


def verdict(rule: Callable[[Any], list[str]], value: Any) -> bool:
    return rule(value) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a", ACCEPTED),
        ("0", ACCEPTED),
        ("a-b", ACCEPTED),
        ("1-model", ACCEPTED),
        ("a--b", ACCEPTED),
        ("a" * 63, ACCEPTED),
        ("", REFUSED),
        ("a" * 64, REFUSED),
        ("-a", REFUSED),
        ("a-", REFUSED),
        ("A", REFUSED),
        ("a.b", REFUSED),
        ("a_b", REFUSED),
        ("a b", REFUSED),
    ],
)
def test_dns1123_label(value: str, expected: bool) -> None:
    assert verdict(apirules.dns1123_label, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a", ACCEPTED),
        ("a.b", ACCEPTED),
        ("a-1.b-2.c", ACCEPTED),
        ("0.0", ACCEPTED),
        (".".join(["a" * 63] * 3) + "." + "a" * 61, ACCEPTED),  # 253 characters
        (".".join(["a" * 63] * 3) + "." + "a" * 62, REFUSED),  # 254 characters
        ("", REFUSED),
        ("a..b", REFUSED),
        (".a", REFUSED),
        ("a.", REFUSED),
        ("a.-b", REFUSED),
        ("A.b", REFUSED),
        ("a_b", REFUSED),
    ],
)
def test_dns1123_subdomain(value: str, expected: bool) -> None:
    assert verdict(apirules.dns1123_subdomain, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a", ACCEPTED),
        ("model-1", ACCEPTED),
        ("a" * 63, ACCEPTED),
        ("1model", REFUSED),  # a Service name must start with a letter
        ("0", REFUSED),
        ("a" * 64, REFUSED),
        ("a-", REFUSED),
        ("A", REFUSED),
    ],
)
def test_dns1035_label_for_service_names(value: str, expected: bool) -> None:
    assert verdict(apirules.dns1035_label, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pool", ACCEPTED),
        ("Pool_1.x-y", ACCEPTED),
        ("example.com/pool", ACCEPTED),
        ("nvidia.com/gpu", ACCEPTED),
        ("kubernetes.io/hostname", ACCEPTED),
        ("a/" + "b" * 63, ACCEPTED),
        ("a/" + "b" * 64, REFUSED),
        ("/pool", REFUSED),
        ("pool/", REFUSED),
        ("a/b/c", REFUSED),
        ("Example.com/pool", REFUSED),  # the prefix is a DNS subdomain: lower case
        ("-pool", REFUSED),
        ("pool.", REFUSED),
        ("po ol", REFUSED),
        ("", REFUSED),
    ],
)
def test_qualified_name_for_label_and_selector_keys(value: str, expected: bool) -> None:
    assert verdict(apirules.qualified_name, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ACCEPTED),
        ("1.0.0", ACCEPTED),
        ("v1_rc-2", ACCEPTED),
        ("A", ACCEPTED),
        ("a" * 63, ACCEPTED),
        ("a" * 64, REFUSED),
        ("1.0.", REFUSED),
        ("-1", REFUSED),
        ("_a", REFUSED),
        ("a b", REFUSED),
        ("a/b", REFUSED),
        ("gpu pool", REFUSED),
    ],
)
def test_label_value(value: str, expected: bool) -> None:
    assert verdict(apirules.label_value, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("http", ACCEPTED),
        ("h-2", ACCEPTED),
        ("a" * 15, ACCEPTED),
        ("a" * 16, REFUSED),
        ("8080", REFUSED),  # at least one letter
        ("a--b", REFUSED),
        ("-http", REFUSED),
        ("http-", REFUSED),
        ("HTTP", REFUSED),
        ("h_p", REFUSED),
    ],
)
def test_port_name(value: str, expected: bool) -> None:
    assert verdict(apirules.port_name, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, ACCEPTED), (8080, ACCEPTED), (65535, ACCEPTED), (0, REFUSED), (65536, REFUSED),
     (-1, REFUSED), ("8080", REFUSED), (True, REFUSED)],
)  # fmt: skip
def test_port_number(value: Any, expected: bool) -> None:
    assert verdict(apirules.port_number, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("KEY", ACCEPTED),
        ("a.b-c_d", ACCEPTED),
        (".hidden", ACCEPTED),
        ("a" * 253, ACCEPTED),
        ("a" * 254, REFUSED),
        (".", REFUSED),
        ("..", REFUSED),
        ("..a", REFUSED),
        ("a/b", REFUSED),
        ("a b", REFUSED),
        ("", REFUSED),
    ],
)
def test_config_map_and_secret_keys(value: str, expected: bool) -> None:
    assert verdict(apirules.config_map_key, value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("PATH", ACCEPTED),
        ("_a", ACCEPTED),
        ("a.b-c", ACCEPTED),
        ("1A", REFUSED),
        ("A B", REFUSED),
        ("A=B", REFUSED),
        ("..", REFUSED),
        ("", REFUSED),
    ],
)
def test_env_var_name(value: str, expected: bool) -> None:
    assert verdict(apirules.env_var_name, value) is expected


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("0", Decimal(0)),
        ("250m", Decimal("0.25")),
        ("1.5", Decimal("1.5")),
        (".5", Decimal("0.5")),
        ("+1", Decimal(1)),
        ("-1", Decimal(-1)),
        ("256Mi", Decimal(256 * 2**20)),
        ("1Ei", Decimal(2**60)),
        ("1E", Decimal(10**18)),
        ("2k", Decimal(2000)),
        ("1e3", Decimal(1000)),
        ("1E-3", Decimal("0.001")),
        ("5n", Decimal("0.000000005")),
        ("5u", Decimal("0.000005")),
    ],
)
def test_quantity_grammar_values(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("500m", ACCEPTED),
        ("0", ACCEPTED),  # the API accepts zero; the HPA rule is ours (inputvalues)
        ("1Gi", ACCEPTED),
        ("1e3", ACCEPTED),
        ("-1", REFUSED),  # ValidateNonnegativeQuantity
        ("1GB", REFUSED),
        ("500mc", REFUSED),
        ("1 Gi", REFUSED),
        ("Gi", REFUSED),
        ("1.2.3", REFUSED),
        ("0x10", REFUSED),
        ("", REFUSED),
        ("1KI", REFUSED),
    ],
)
def test_quantity(value: str, expected: bool) -> None:
    assert verdict(apirules.quantity, value) is expected


@pytest.mark.parametrize(
    ("toleration", "expected"),
    [
        ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}, ACCEPTED),
        ({"key": "dedicated", "operator": "Equal", "value": "ml", "effect": "NoSchedule"},
         ACCEPTED),
        ({"key": "dedicated", "value": "ml"}, ACCEPTED),  # operator defaults to Equal
        ({"operator": "Exists"}, ACCEPTED),  # no key: tolerate every taint
        ({"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 60},
         ACCEPTED),
        ({"operator": "Equal", "value": "v"}, REFUSED),  # no key needs Exists
        ({"key": "k", "operator": "Exists", "value": "v"}, REFUSED),
        ({"key": "k", "effect": "NoSchedule", "tolerationSeconds": 60}, REFUSED),
        ({"key": "k", "operator": "In"}, REFUSED),
        ({"key": "k", "effect": "Never"}, REFUSED),
        ({"key": "k", "value": "bad value"}, REFUSED),
        ({"key": "bad key"}, REFUSED),
    ],
)  # fmt: skip
def test_toleration(toleration: dict[str, Any], expected: bool) -> None:
    assert verdict(apirules.toleration, toleration) is expected


@pytest.mark.parametrize(
    ("resources", "expected"),
    [
        ({"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}}, ACCEPTED),
        ({"requests": {"cpu": "1"}, "limits": {"cpu": "2"}}, ACCEPTED),
        ({"limits": {"nvidia.com/gpu": "1"}}, ACCEPTED),
        ({"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "1"}}, ACCEPTED),
        ({"requests": {"memory": "512Mi"}, "limits": {"memory": "256Mi"}}, REFUSED),
        ({"requests": {"cpu": "-1"}}, REFUSED),
        ({"requests": {"cpu": "1x"}}, REFUSED),
        ({"limits": {"nvidia.com/gpu": "500m"}}, REFUSED),  # whole numbers only
        ({"requests": {"nvidia.com/gpu": "1"}}, REFUSED),  # needs a limit
        ({"requests": {"nvidia.com/gpu": "1"}, "limits": {"nvidia.com/gpu": "2"}}, REFUSED),
        ({"limits": {"kubernetes.io/gpu": "1"}}, REFUSED),  # reserved domain
    ],
)  # fmt: skip
def test_resource_requirements(resources: dict[str, Any], expected: bool) -> None:
    assert verdict(apirules.resource_requirements, resources) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("nvidia.com/gpu", ACCEPTED),
        ("amd.com/gpu", ACCEPTED),
        ("gpu", REFUSED),
        ("kubernetes.io/gpu", REFUSED),
        ("nvidia.com/", REFUSED),
        ("-x.com/gpu", REFUSED),
    ],
)
def test_extended_resource_name(value: str, expected: bool) -> None:
    assert verdict(apirules.extended_resource_name, value) is expected


def test_annotations_are_limited_to_256_kib_in_total() -> None:
    fits = {"a": "x" * (256 * 1024 - 1)}
    over = {"a": "x" * (256 * 1024)}
    assert apirules.annotation_set(fits) == []
    assert apirules.annotation_set(over) == [
        "annotations total 262145 bytes; the API server allows 262144"
    ]
    assert apirules.annotation_set({"bad key": "v"}) != []


def test_config_map_data_is_limited_to_one_mib() -> None:
    assert apirules.config_map_size({"K": "x" * (2**20 - 1)}) == []
    assert apirules.config_map_size({"K": "x" * 2**20}) == [
        "data totals 1048577 bytes; a ConfigMap holds at most 1048576"
    ]
