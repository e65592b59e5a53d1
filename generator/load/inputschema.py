"""JSON Schema validation of the two input files, with errors a person can act on.

The schemas in ``schemas/`` are the single source of truth for field names, types and
defaults. A compiled Rust validator answers the common case (valid input) quickly; only
invalid documents go through the Python validator, whose errors we translate into located
problems with hints.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from generator.load.yamlsource import Document, PathKey
from generator.problems import Problem

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"
MODEL_SCHEMA = "model.schema.json"
PLATFORM_SCHEMA = "environments.schema.json"
_BASE_URI = "https://mlgitops.dev/schemas/"

if TYPE_CHECKING:
    import jsonschema
    from referencing import Registry

# The Python validator is imported only for invalid documents (for its error details): valid
# input, the common case, is answered by the Rust validator and never pays for the import.


@cache
def load_schema(name: str) -> dict[str, Any]:
    with (SCHEMA_DIR / name).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    return schema


@cache
def _registry() -> Registry[Any]:
    from referencing import Registry, Resource

    resources = [
        (_BASE_URI + name, Resource.from_contents(load_schema(name)))
        for name in (MODEL_SCHEMA, PLATFORM_SCHEMA)
    ]
    return Registry().with_resources(resources)


@cache
def _python_validator(name: str) -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(load_schema(name), registry=_registry())


@cache
def _fast_validator(name: str) -> Any:
    registry = jsonschema_rs.Registry(
        [(_BASE_URI + other, load_schema(other)) for other in (MODEL_SCHEMA, PLATFORM_SCHEMA)]
    )
    return jsonschema_rs.Draft202012Validator(
        load_schema(name), registry=registry, base_uri=_BASE_URI + name
    )


def dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(document)"


def did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f"did you mean {close[0]!r}?"
    return "allowed: " + ", ".join(choices) if choices else ""


def validate_document(document: Document, schema_name: str) -> list[Problem]:
    if _fast_validator(schema_name).is_valid(document.data):
        return []
    problems: list[Problem] = []
    for error in _python_validator(schema_name).iter_errors(document.data):
        problems.extend(_translate(document, error))
    return problems


def _schema_at(schema: Mapping[str, Any], resolver_schema: str) -> Mapping[str, Any]:
    """Follow a local or cross-file ``$ref`` so we can list allowed property names."""
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    file, _, pointer = ref.partition("#")
    target: Any = load_schema(file or resolver_schema)
    for part in pointer.strip("/").split("/"):
        if part:
            target = target[part]
    return _schema_at(target, file or resolver_schema)


def _translate(document: Document, error: jsonschema.ValidationError) -> Iterator[Problem]:
    path: PathKey = tuple(error.absolute_path)
    where = dotted(path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    description = str(schema.get("description", ""))
    instance = error.instance
    if "propertyNames" in error.absolute_schema_path and isinstance(instance, str):
        yield document.problem(
            (*path, instance),
            f"{where}: {instance!r} is not a valid name",
            description or f"it must match {error.validator_value}",
            key=True,
        )
    elif kind == "additionalProperties" and isinstance(instance, Mapping):
        allowed = sorted(_schema_at(schema, MODEL_SCHEMA).get("properties", {}))
        for key in instance:
            if key not in allowed:
                yield document.problem(
                    (*path, key),
                    f"unknown field {key!r} in {where}",
                    did_you_mean(key, allowed),
                    key=True,
                )
    elif kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        yield document.problem(
            path, f"{where}: missing required field {missing!r}", f"add {missing}: to {where}"
        )
    elif kind == "type":
        expected = error.validator_value
        hint = (
            "quote the value so YAML reads it as text"
            if expected == "string"
            else f"write a value of type {expected}"
        )
        yield document.problem(
            path, f"{where}: expected {expected}, got {_describe(instance)}", hint
        )
    elif kind in ("enum", "const"):
        permitted: Any = error.validator_value
        choices = [str(c) for c in (permitted if kind == "enum" else [permitted])]
        hint = did_you_mean(str(instance), choices) if isinstance(instance, str) else ""
        yield document.problem(
            path,
            f"{where}: {_describe(instance)} is not allowed; use one of: {', '.join(choices)}",
            hint or f"use one of: {', '.join(choices)}",
        )
    elif kind == "pattern":
        yield document.problem(
            path,
            f"{where}: {_describe(instance)} is not valid",
            description or f"it must match {error.validator_value}",
        )
    elif kind in ("minimum", "maximum", "minLength", "maxLength", "minItems"):
        limit = error.validator_value
        bound = "at least" if kind.startswith("min") else "at most"
        unit = (
            " characters" if kind.endswith("Length") else (" items" if kind == "minItems" else "")
        )
        yield document.problem(
            path, f"{where}: {error.message}", f"use a value of {bound} {limit}{unit}"
        )
    elif kind == "oneOf" and isinstance(instance, Mapping) and _alternatives(error):
        names = _alternatives(error)
        given = [name for name in names if name in instance]
        yield document.problem(
            path,
            f"{where}: "
            + (f"has both {' and '.join(given)}" if given else "has none of them")
            + f"; exactly one of {', '.join(names)} is allowed",
            description or f"keep exactly one of {', '.join(names)}",
        )
    else:
        yield document.problem(path, f"{where}: {error.message}", description)


def _alternatives(error: jsonschema.ValidationError) -> list[str]:
    """The field names of a ``oneOf`` whose branches each only require one field."""
    branches = error.validator_value if isinstance(error.validator_value, list) else []
    names = [
        b["required"][0]
        for b in branches
        if isinstance(b, Mapping) and list(b) == ["required"] and len(b["required"]) == 1
    ]
    return names if len(names) == len(branches) else []


def _describe(value: Any) -> str:
    if value is None:
        return "null (an empty value)"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57] + "...")
    if isinstance(value, list):
        return "a list"
    return "a mapping"
