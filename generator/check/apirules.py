"""The Kubernetes API server's own rules for the values of the fields we write.

Each function takes one value and returns the reasons it would be refused (an empty list: the
API server accepts it), as the Go functions it follows do. The rules are those of the upstream
source, read there (Kubernetes 1.33):

- ``k8s.io/apimachinery/pkg/util/validation/validation.go``: ``IsDNS1123Label``,
  ``IsDNS1123Subdomain``, ``IsDNS1035Label``, ``IsQualifiedName``, ``IsValidLabelValue``,
  ``IsValidPortName``, ``IsValidPortNum``, ``IsConfigMapKey``, ``IsEnvVarName``.
- ``k8s.io/apimachinery/pkg/api/validation/objectmeta.go``: ``ValidateAnnotations`` (keys are
  qualified names, all keys and values together at most 256 KiB, ``TotalAnnotationSizeLimitB``).
- ``k8s.io/apimachinery/pkg/api/resource/quantity.go``: the quantity grammar of
  ``ParseQuantity``.
- ``k8s.io/kubernetes/pkg/apis/core/validation/validation.go``: ``ValidateServiceName`` (a
  DNS-1035 label), ``ValidateTolerations``, ``ValidateNonnegativeQuantity``, the resource
  requirement rules (requests at most the limits; extended resources whole numbers, request
  equal to limit, names outside the ``kubernetes.io`` domain), and the ConfigMap size limit
  (``MaxSecretSize``, 1 MiB).

The messages are ours; the rules are theirs.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from generator.quantities import parse_quantity

DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_MAX = 63
PORT_NAME_MAX = 15
ANNOTATIONS_TOTAL_MAX = 256 * 1024
CONFIG_MAP_DATA_MAX = 1024 * 1024
TOLERATION_OPERATORS = ("Exists", "Equal")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_PORT_NAME_CHARS = re.compile(r"^[-a-z0-9]+$")
_CONFIG_MAP_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
_ENV_VAR_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def _remembered(rule: Callable[[str], list[str]]) -> Callable[[str], list[str]]:
    """The same rule, remembering its verdicts: the same label keys, names and values recur in
    every rendered object. Each call gets its own list."""
    verdicts = functools.lru_cache(maxsize=8192)(lambda value: tuple(rule(value)))

    @functools.wraps(rule)
    def check(value: str) -> list[str]:
        return list(verdicts(value))

    return check


def _bounded(value: str, limit: int, pattern: re.Pattern[str], shape: str) -> list[str]:
    """The rule shape most name checks share: at most ``limit`` characters, matching
    ``pattern`` (``shape`` says what that pattern allows)."""
    errors = []
    if len(value) > limit:
        errors.append(f"must be at most {limit} characters, not {len(value)}")
    if not pattern.match(value):
        errors.append(f"must be {shape}")
    return errors


def _dot_names(value: str) -> list[str]:
    """Keys that are also file names (ConfigMap keys, variable names) must not be '.', '..'
    or start with '..'."""
    if value in (".", ".."):
        return [f"must not be {value!r}"]
    if value.startswith(".."):
        return ["must not start with '..'"]
    return []


@_remembered
def dns1123_label(value: str) -> list[str]:
    """``IsDNS1123Label``: namespaces, container, volume and most other short names."""
    return _bounded(
        value,
        DNS1123_LABEL_MAX,
        _DNS1123_LABEL,
        "lower-case letters, digits and '-', starting and ending with a letter or digit "
        "(a DNS-1123 label)",
    )


@_remembered
def dns1123_subdomain(value: str) -> list[str]:
    """``IsDNS1123Subdomain``: the names of most kinds (Deployment, ConfigMap, ...)."""
    return _bounded(
        value,
        DNS1123_SUBDOMAIN_MAX,
        _DNS1123_SUBDOMAIN,
        "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit "
        "(a DNS-1123 subdomain)",
    )


@_remembered
def dns1035_label(value: str) -> list[str]:
    """``IsDNS1035Label``: Service names, which must start with a letter."""
    return _bounded(
        value,
        DNS1123_LABEL_MAX,
        _DNS1035_LABEL,
        "lower-case letters, digits and '-', starting with a letter and ending with a letter "
        "or digit (a DNS-1035 label)",
    )


@_remembered
def qualified_name(value: str) -> list[str]:
    """``IsQualifiedName``: label and annotation keys, node selector and topology keys:
    an optional DNS-1123 subdomain prefix and '/', then a name of at most 63 characters."""
    prefix, slash, name = value.rpartition("/")
    if value.count("/") > 1:
        return ["must be a name with at most one '/' (an optional DNS subdomain prefix)"]
    errors = []
    if slash:
        if not prefix:
            errors.append("the prefix before '/' must not be empty")
        else:
            errors += [f"prefix {prefix!r} {m}" for m in dns1123_subdomain(prefix)]
    if not name:
        errors.append("the name part must not be empty")
    elif len(name) > QUALIFIED_NAME_MAX:
        errors.append(f"the name part must be at most {QUALIFIED_NAME_MAX} characters")
    elif not _QUALIFIED_NAME_PART.match(name):
        errors.append(
            "the name part must be letters, digits, '-', '_' and '.', starting and ending "
            "with a letter or digit"
        )
    return errors


@_remembered
def label_value(value: str) -> list[str]:
    """``IsValidLabelValue``: empty, or at most 63 letters, digits, '-', '_' and '.',
    starting and ending with a letter or digit."""
    return _bounded(
        value,
        LABEL_VALUE_MAX,
        _LABEL_VALUE,
        "letters, digits, '-', '_' and '.', starting and ending with a letter or digit "
        "(a label value)",
    )


@_remembered
def port_name(value: str) -> list[str]:
    """``IsValidPortName``: an IANA service name (at most 15 characters, lower case, at
    least one letter, no '-' at either end and no '--')."""
    errors = []
    if len(value) > PORT_NAME_MAX:
        errors.append(f"must be at most {PORT_NAME_MAX} characters")
    if not _PORT_NAME_CHARS.match(value):
        errors.append("must be lower-case letters, digits and '-'")
    if not re.search("[a-z]", value):
        errors.append("must contain at least one letter")
    if "--" in value:
        errors.append("must not contain '--'")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not start or end with '-'")
    return errors


def port_number(value: Any) -> list[str]:
    """``IsValidPortNum``: 1 to 65535."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        return ["must be a port number between 1 and 65535"]
    return []


@_remembered
def config_map_key(value: str) -> list[str]:
    """``IsConfigMapKey``: ConfigMap data keys and the key of a secretKeyRef."""
    errors = []
    if len(value) > DNS1123_SUBDOMAIN_MAX:
        errors.append(f"must be at most {DNS1123_SUBDOMAIN_MAX} characters")
    if not _CONFIG_MAP_KEY.match(value):
        errors.append("must be letters, digits, '-', '_' and '.'")
    return errors + _dot_names(value)


@_remembered
def env_var_name(value: str) -> list[str]:
    """``IsEnvVarName``: letters, digits, '-', '_' and '.', not starting with a digit. Clusters
    with the RelaxedEnvironmentVariableValidation feature (beta in 1.32, GA in 1.34) accept any
    printable character but '='; this, the older rule, holds on every supported version."""
    errors = []
    if not _ENV_VAR_NAME.match(value):
        errors.append("must be letters, digits, '-', '_' and '.', not starting with a digit")
    return errors + _dot_names(value)


def quantity(value: Any) -> list[str]:
    """``ParseQuantity`` and ``ValidateNonnegativeQuantity``: a number with an optional SI,
    binary or exponent suffix, not negative."""
    try:
        parsed = parse_quantity(str(value))
    except ValueError:
        return [
            "must be a Kubernetes quantity: a number with an optional suffix such as "
            "m, k, M, G, Ki, Mi, Gi"
        ]
    if parsed < 0:
        return ["must not be negative"]
    return []


def is_extended_resource(name: str) -> bool:
    """A resource name outside the ``kubernetes.io`` domain (``nvidia.com/gpu``)."""
    prefix = name.partition("/")[0] if "/" in name else ""
    return bool(prefix) and not (prefix == "kubernetes.io" or prefix.endswith(".kubernetes.io"))


def extended_resource_name(name: str) -> list[str]:
    """``IsExtendedResourceName`` (core validation's ``validateResourceName``): a qualified
    name with a domain prefix outside ``kubernetes.io``, which also makes a valid quota key
    once prefixed with ``requests.``."""
    if "/" not in name:
        return ["must have a domain prefix, such as nvidia.com/gpu"]
    if not is_extended_resource(name):
        return ["must not be in the kubernetes.io domain, which Kubernetes reserves"]
    return qualified_name(name) + [f"(as {m})" for m in qualified_name("requests." + name)]


def resource_requirements(resources: Mapping[str, Any]) -> list[str]:
    """A container's ``resources``: names, quantities, requests <= limits; extended resources
    whole numbers with the request equal to the limit (core ``ValidateResourceRequirements``).
    """
    errors = []
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    for where, table in (("requests", requests), ("limits", limits)):
        for name, value in table.items():
            errors += [f"{where}.{name} {value!r} {m}" for m in quantity(value)]
            if "/" in str(name):
                errors += [
                    f"{where}: resource name {name!r} {m}"
                    for m in extended_resource_name(str(name))
                ]
                if not quantity(value) and parse_quantity(str(value)) % 1:
                    errors.append(f"{where}.{name} {value!r} must be a whole number")
    for name, request in requests.items():
        if name not in limits or quantity(request) or quantity(limits[name]):
            continue
        wanted, allowed = parse_quantity(str(request)), parse_quantity(str(limits[name]))
        if wanted > allowed:
            errors.append(f"requests.{name} {request!r} must not exceed limits.{name}")
        if "/" in str(name) and wanted != allowed:
            errors.append(f"requests.{name} must equal limits.{name} for an extended resource")
    for name in requests:
        if "/" in str(name) and name not in limits:
            errors.append(f"an extended resource ({name}) must have a limit")
    return errors


def toleration(item: Mapping[str, Any]) -> list[str]:
    """``ValidateTolerations`` for one toleration."""
    errors = []
    key = str(item.get("key", ""))
    operator = str(item.get("operator", "") or "Equal")
    value = str(item.get("value", ""))
    effect = str(item.get("effect", ""))
    if key:
        errors += [f"key {key!r}: {m}" for m in qualified_name(key)]
    elif operator != "Exists":
        errors.append(
            "a toleration without a key must use operator Exists (it matches every taint)"
        )
    if "tolerationSeconds" in item and effect != "NoExecute":
        errors.append("tolerationSeconds is allowed only with effect NoExecute")
    if operator not in TOLERATION_OPERATORS:
        errors.append(f"operator {operator!r} must be one of {', '.join(TOLERATION_OPERATORS)}")
    elif operator == "Exists" and value:
        errors.append("operator Exists matches any value: the value must be empty")
    elif operator == "Equal":
        errors += [f"value {value!r} {m}" for m in label_value(value)]
    if effect and effect not in TAINT_EFFECTS:
        errors.append(f"effect {effect!r} must be one of {', '.join(TAINT_EFFECTS)}")
    return errors


def annotation_set(table: Mapping[str, str]) -> list[str]:
    """``ValidateAnnotations``: qualified-name keys, at most 256 KiB of keys and values."""
    errors = []
    for key in table:
        errors += [f"annotation key {key!r} {m}" for m in qualified_name(str(key).lower())]
    total = sum(len(str(k)) + len(str(v)) for k, v in table.items())
    if total > ANNOTATIONS_TOTAL_MAX:
        errors.append(
            f"annotations total {total} bytes; the API server allows {ANNOTATIONS_TOTAL_MAX}"
        )
    return errors


def labels(table: Mapping[str, str]) -> list[str]:
    """``ValidateLabels``: qualified-name keys and label values."""
    errors = []
    for key, value in table.items():
        errors += [f"label key {key!r} {m}" for m in qualified_name(str(key))]
        errors += [f"label {key}={value!r}: the value {m}" for m in label_value(str(value))]
    return errors


def config_map_size(data: Mapping[str, str]) -> list[str]:
    """A ConfigMap's keys and values together must fit in 1 MiB."""
    total = sum(len(k) + len(str(v).encode()) for k, v in data.items())
    if total > CONFIG_MAP_DATA_MAX:
        return [f"data totals {total} bytes; a ConfigMap holds at most {CONFIG_MAP_DATA_MAX}"]
    return []


def zero(value: str) -> bool:
    """True for a quantity equal to zero (``0``, ``0m``, ``0.0``)."""
    return parse_quantity(value) == Decimal(0)
