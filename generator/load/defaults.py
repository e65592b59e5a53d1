"""Default values, read from the JSON Schemas so the schema stays their single source."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from functools import cache
from typing import Any

from generator.load.inputschema import MODEL_SCHEMA, load_schema


def _resolve(node: Mapping[str, Any], schema_name: str) -> tuple[Mapping[str, Any], str]:
    ref = node.get("$ref")
    while isinstance(ref, str):
        file, _, pointer = ref.partition("#")
        schema_name = file or schema_name
        target: Any = load_schema(schema_name)
        for part in pointer.strip("/").split("/"):
            target = target[part]
        merged = {k: v for k, v in node.items() if k != "$ref"}
        node = {**target, **merged}
        ref = target.get("$ref")
    return node, schema_name


def _defaults_of(node: Mapping[str, Any], schema_name: str) -> Any:
    node, schema_name = _resolve(node, schema_name)
    if "default" in node:
        return copy.deepcopy(node["default"])
    properties = node.get("properties")
    if not isinstance(properties, Mapping):
        return None
    result = {}
    for name, child in properties.items():
        value = _defaults_of(child, schema_name)
        if value is not None:
            result[name] = value
    return result


def field_schema(schema_name: str, *path: str) -> Mapping[str, Any]:
    """The schema of one field, by property names (``"metadata", "name"``), with its ``$ref``
    merged in: the field's own keywords win (``metadata.name``'s maxLength 40 over the DNS
    label's 63). KeyError for a path the schema does not have."""
    node: Mapping[str, Any] = load_schema(schema_name)
    for name in path:
        node, schema_name = _resolve(node, schema_name)
        node = node["properties"][name]
    return _resolve(node, schema_name)[0]


@cache
def _tunable_defaults() -> Mapping[str, Any]:
    tunable = load_schema(MODEL_SCHEMA)["$defs"]["tunable"]
    result = _defaults_of(tunable, MODEL_SCHEMA)
    assert isinstance(result, dict)
    return result


def tunable_defaults() -> Mapping[str, Any]:
    """Defaults of every field an environment or model may tune (resources, scaling, ...).

    Shared: callers merge it (``deep_merge`` copies), never modify it."""
    return _tunable_defaults()


def with_defaults(data: Any, schema_name: str, pointer: str = "") -> Any:
    """``data`` with absent fields that declare a ``default`` filled in, at any depth of the
    objects present; absent objects stay absent (their absence can mean something)."""
    node: Any = load_schema(schema_name)
    for part in pointer.strip("/").split("/"):
        if part:
            node = node[part]
    return _fill(data, node, schema_name)


def _fill(data: Any, node: Mapping[str, Any], schema_name: str) -> Any:
    node, schema_name = _resolve(node, schema_name)
    if isinstance(data, dict):
        result = dict(data)
        properties = node.get("properties", {})
        for name, child in properties.items():
            if name in result:
                result[name] = _fill(result[name], child, schema_name)
            else:
                resolved, _ = _resolve(child, schema_name)
                if "default" in resolved:
                    result[name] = copy.deepcopy(resolved["default"])
        extra = node.get("additionalProperties")
        if isinstance(extra, Mapping):
            for name in result:
                if name not in properties:
                    result[name] = _fill(result[name], extra, schema_name)
        return result
    if isinstance(data, list) and isinstance(node.get("items"), Mapping):
        return [_fill(item, node["items"], schema_name) for item in data]
    return data


def deep_merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Merge mappings left to right into a new dict; nested mappings merge, anything else is
    replaced. The layers are never modified, and no mapping of theirs is shared."""
    result: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping):
                previous = result.get(key)
                result[key] = deep_merge(previous if isinstance(previous, Mapping) else {}, value)
            elif isinstance(value, list):
                result[key] = copy.deepcopy(value)
            else:
                result[key] = value
    return result
