"""Load YAML input files into plain data plus the source position of every node.

We build the data from parser events ourselves rather than using a YAML constructor because
that is where the hazards are controlled in one place: scalars resolve with the YAML 1.2 core
schema (``on``/``no`` stay strings), aliases are bounded (alias bombs expand on walking, not on
loading), duplicate keys and custom tags are refused, and each problem keeps its position.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from generator.problems import InputError, Problem

MAX_FILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_ALIAS_NODES = 1000

PathKey = tuple[str | int, ...]

_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}
_INT = re.compile(r"[-+]?[0-9]+")
_OCT = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(inf|Inf|INF)")
_NAN = re.compile(r"\.(nan|NaN|NAN)")
_STR_TAG = "tag:yaml.org,2002:str"
# The only explicit tags allowed, each on its own node kind: every other ``tag:yaml.org,2002:``
# tag (``!!python/object/apply:...`` included) is refused, not silently read as plain data.
_PLAIN_TAGS = {
    yaml.ScalarEvent: _STR_TAG,
    yaml.SequenceStartEvent: "tag:yaml.org,2002:seq",
    yaml.MappingStartEvent: "tag:yaml.org,2002:map",
}


@dataclass(frozen=True)
class Mark:
    line: int
    column: int


@dataclass
class Document:
    """A loaded YAML file: its data and where each value (and each mapping key) stands."""

    file: str
    data: Any
    values: dict[PathKey, Mark] = field(default_factory=dict)
    keys: dict[PathKey, Mark] = field(default_factory=dict)

    def mark(self, path: PathKey, *, key: bool = False) -> Mark:
        """Position of ``path``, or of its nearest located ancestor."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return table[probe]
            if probe in self.values:
                return self.values[probe]
            probe = probe[:-1]
        return self.values.get((), Mark(1, 1))

    def problem(self, path: PathKey, message: str, hint: str = "", *, key: bool = False) -> Problem:
        where = self.mark(path, key=key)
        return Problem(self.file, where.line, where.column, message, hint)


def resolve_plain_scalar(text: str) -> Any:
    """YAML 1.2 core schema resolution of an unquoted scalar."""
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.fullmatch(text):
        return int(text)
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    if _INF.fullmatch(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    return text


def _mark(event: Any) -> Mark:
    start = event.start_mark
    return Mark(start.line + 1, start.column + 1) if start is not None else Mark(0, 0)


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.values: dict[PathKey, Mark] = {}
        self.keys: dict[PathKey, Mark] = {}
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.alias_nodes = 0
        self.nodes = 0

    def fail(self, mark: Any, message: str, hint: str = "") -> InputError:
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (0, 0)
        return InputError([Problem(self.file, line, column, message, hint)])

    def value(self, events: Iterator[Any], event: Any, path: PathKey) -> tuple[Any, int]:
        """Build one node from ``event`` on; return it and how many nodes it holds."""
        if len(path) > MAX_DEPTH:
            raise self.fail(
                event.start_mark,
                f"the document nests deeper than {MAX_DEPTH} levels",
                "flatten the structure; inputs are small declarative files",
            )
        self.values[path] = _mark(event)
        if isinstance(event, yaml.AliasEvent):
            return self.alias(event)
        self.check_tag(event)
        if isinstance(event, yaml.ScalarEvent):
            result: tuple[Any, int] = (self.scalar(event), 1)
        elif isinstance(event, yaml.SequenceStartEvent):
            result = self.sequence(events, path)
        elif isinstance(event, yaml.MappingStartEvent):
            result = self.mapping(events, path)
        else:
            raise self.fail(event.start_mark, f"unexpected YAML event {type(event).__name__}")
        self.nodes += result[1]
        if event.anchor is not None:
            self.anchors[event.anchor] = result
        return result

    def alias(self, event: Any) -> tuple[Any, int]:
        if event.anchor not in self.anchors:
            raise self.fail(event.start_mark, f"unknown alias *{event.anchor}")
        data, count = self.anchors[event.anchor]
        self.alias_nodes += count
        if self.alias_nodes > MAX_ALIAS_NODES:
            raise self.fail(
                event.start_mark,
                f"YAML aliases expand to more than {MAX_ALIAS_NODES} nodes (an alias bomb?)",
                "write the values out instead of using anchors (&) and aliases (*)",
            )
        return data, count

    def check_tag(self, event: Any) -> None:
        tag = getattr(event, "tag", None)
        if tag is None or tag == "!" or tag == _PLAIN_TAGS.get(type(event)):
            return
        raise self.fail(
            event.start_mark,
            f"YAML tag {tag!r} is not allowed",
            "remove the tag; quote the value if it must be a string",
        )

    def scalar(self, event: Any) -> Any:
        if event.style or event.tag == _STR_TAG:
            return event.value
        return resolve_plain_scalar(event.value)

    def sequence(self, events: Iterator[Any], path: PathKey) -> tuple[list[Any], int]:
        items: list[Any] = []
        count = 1
        for event in events:
            if isinstance(event, yaml.SequenceEndEvent):
                return items, count
            item, size = self.value(events, event, (*path, len(items)))
            items.append(item)
            count += size
        raise AssertionError("parser ended inside a sequence")

    def mapping(self, events: Iterator[Any], path: PathKey) -> tuple[dict[str, Any], int]:
        result: dict[str, Any] = {}
        count = 1
        for event in events:
            if isinstance(event, yaml.MappingEndEvent):
                return result, count
            if not isinstance(event, yaml.ScalarEvent):
                raise self.fail(
                    event.start_mark,
                    "mapping keys must be plain strings",
                    "use a simple word as key",
                )
            key = event.value
            if key == "<<" and not event.style:
                raise self.fail(
                    event.start_mark,
                    "YAML merge keys (<<) are not allowed",
                    "write the keys out explicitly",
                )
            key_mark = _mark(event)
            if key in result:
                first = self.keys[(*path, key)]
                raise self.fail(
                    event.start_mark,
                    f"duplicate key {key!r} (first defined on line {first.line})",
                    "remove one of the two; YAML keeps only one of them silently",
                )
            self.keys[(*path, key)] = key_mark
            value, size = self.value(events, next(events), (*path, key))
            result[key] = value
            count += size
        raise AssertionError("parser ended inside a mapping")


def decode(file: str, raw: bytes) -> str:
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(
            [
                Problem(
                    file,
                    0,
                    0,
                    f"file is {len(raw)} bytes; inputs may be at most {MAX_FILE_BYTES} bytes",
                    "keep data out of the spec; artifacts belong in their own files",
                )
            ]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise InputError(
            [
                Problem(
                    file,
                    line,
                    1,
                    f"file is not valid UTF-8 "
                    f"(byte 0x{raw[error.start]:02x} at offset {error.start})",
                    "save the file as UTF-8",
                )
            ]
        ) from None
    return text.removeprefix("\ufeff")


def parse_text(file: str, text: str) -> Document:
    """Parse one YAML document from ``text``; raise InputError with a located problem."""
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        raise InputError([Problem(file, 0, 0, "file is empty", "see README for an example")])
    builder = _Builder(file)
    documents: list[Any] = []
    try:
        events = yaml.parse(text, Loader=yaml.CSafeLoader)
        for event in events:
            if isinstance(event, yaml.DocumentStartEvent):
                if documents:
                    raise builder.fail(
                        event.start_mark,
                        "file holds more than one YAML document",
                        "keep one document per file; remove the '---' separator",
                    )
                data, _ = builder.value(events, next(events), ())
                documents.append(data)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        reason = error.problem or error.context or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        lines = text.splitlines()
        if line > len(lines) > 0:  # libyaml marks the end of the stream past the last line
            line, column = len(lines), len(lines[-1]) + 1
        at_tab = 0 < line <= len(lines) and "\t" in lines[line - 1]
        hint = "indent with spaces, not tabs" if at_tab else "check the YAML syntax here"
        raise InputError([Problem(file, line, column, f"invalid YAML: {reason}", hint)]) from None
    except yaml.reader.ReaderError as error:
        # Not a MarkedYAMLError: libyaml gives only a UTF-8 byte offset; locate it ourselves.
        before = text.encode("utf-8")[: error.position].decode("utf-8", "replace")
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        character = error.character if isinstance(error.character, int) else ord(error.character)
        escape = f"\\x{character:02x}" if character < 0x100 else f"\\u{character:04x}"
        raise InputError(
            [
                Problem(
                    file,
                    line,
                    column,
                    f"invalid YAML: unacceptable character U+{character:04X}: {error.reason}",
                    f'remove the character, or write it as "{escape}" inside double quotes',
                )
            ]
        ) from None
    except yaml.YAMLError as error:
        raise InputError([Problem(file, 0, 0, f"invalid YAML: {error}")]) from None
    if not documents:
        raise InputError([Problem(file, 0, 0, "file is empty", "see README for an example")])
    return Document(file, documents[0], builder.values, builder.keys)


class _CoreLoader(yaml.CSafeLoader):
    """Reads trusted tool output (kustomize's go-yaml writes YAML 1.2) with the 1.2 core
    schema: PyYAML's 1.1 resolvers refuse a plain ``=`` and misread ``1_000`` or ``12:30``."""


_CoreLoader.yaml_implicit_resolvers = {}  # every plain scalar arrives as a str node


def _construct_core_scalar(loader: _CoreLoader, node: yaml.ScalarNode) -> Any:
    value = loader.construct_scalar(node)
    return value if node.style else resolve_plain_scalar(value)


_CoreLoader.add_constructor("tag:yaml.org,2002:str", _construct_core_scalar)


def load_all_core(text: str) -> list[Any]:
    """Every non-empty document of ``text`` (tool output, not user input), YAML 1.2 core."""
    return [doc for doc in yaml.load_all(text, Loader=_CoreLoader) if doc]


def load_file(path: Path, display: str) -> Document:
    """Read and parse ``path``; ``display`` is the repository-relative name used in messages."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError([Problem(display, 0, 0, "file not found")]) from None
    except OSError as error:
        raise InputError([Problem(display, 0, 0, f"cannot read file: {error.strerror}")]) from None
    return parse_text(display, decode(display, raw))
