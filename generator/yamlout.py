"""The one YAML emitter: deterministic, every string value double-quoted, multi-line text as
literal blocks.

Quoting every string keeps consumers that still read YAML 1.1 (``on``, ``no``, ``0777``) from
changing a value's type. Our objects are plain dicts, lists and scalars, so a direct emitter is
enough, and it is several times faster than a general representer on thousands of files.

Files a person edits next (``mlgitops init``'s model.yaml) also need comments and short values
on one line: ``Commented``, ``Flow`` and ``Plain`` mark them; generated manifests use none.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufff9-\uffff]")
_CONTROL = re.compile("[\x00-\x09\x0b-\x1f]")
_YAML11_WORDS = frozenset({"y", "yes", "n", "no", "on", "off", "true", "false", "null"})
_PLAIN_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Plain:
    """A string written without quotes, such as the enum token ``FP32``. Only a letter followed
    by letters, digits and ``_`` that no YAML 1.1 or 1.2 loader reads as anything but that
    string; ValueError for any other text."""

    text: str

    def __post_init__(self) -> None:
        if not _PLAIN_TOKEN.fullmatch(self.text) or self.text.lower() in _YAML11_WORDS:
            raise ValueError(f"{self.text!r} cannot be written as a plain YAML scalar")


@dataclass(frozen=True)
class Flow:
    """A mapping or list written on one line: ``{cpu: "500m", shape: [-1, 4]}``."""

    value: dict[str, Any] | list[Any]


@dataclass(frozen=True)
class Commented:
    """``value`` with comment lines above its key (``before``) and below its block
    (``after``), each written as ``# line`` at the key's indent."""

    value: Any
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(str(k))}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    return _scalar(value)


def inline(value: dict[str, Any] | list[Any]) -> str:
    """``value`` as one line of flow YAML, for hints that say what to paste."""
    return _flow(value)


def _comments(lines: Iterable[str], indent: str, out: list[str]) -> None:
    for line in lines:
        if "\n" in line or "\r" in line:
            raise ValueError(f"a comment line cannot hold a line break: {line!r}")
        out.append(f"{indent}# {line}".rstrip())


# Keys and many values (labels, images, namespaces) repeat across thousands of files: each
# distinct string is checked and escaped once.
@lru_cache(maxsize=1 << 16)
def _key(key: str) -> str:
    if _PLAIN_KEY.fullmatch(key) and key.lower() not in _YAML11_WORDS:
        return key
    return _quoted(key)


@lru_cache(maxsize=1 << 16)
def _quoted(text: str) -> str:
    """JSON string syntax is valid YAML double-quoted syntax; escape what YAML reads as breaks."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", encode_basestring(text))


def _block_scalar(text: str, indent: str) -> str | None:
    """A literal block for multi-line text, or None when quoting is the safer choice."""
    if _CONTROL.search(text) or _UNSAFE.search(text) or text != text.rstrip(" "):
        return None
    chomp = "" if text.endswith("\n") and not text.endswith("\n\n") else None
    if chomp is None:
        chomp = "-" if not text.endswith("\n") else None
    if chomp is None:
        return None
    body = text[:-1] if text.endswith("\n") else text
    first = next((line for line in body.split("\n") if line), "")
    if (
        not first
        or first.startswith(" ")
        or any(line != line.rstrip(" ") for line in body.split("\n"))
    ):
        return None
    lines = [(indent + line) if line else "" for line in body.split("\n")]
    return "|" + chomp + "\n" + "\n".join(lines)


def _scalar(value: Any) -> str:
    if type(value) is str:
        return _quoted(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return repr(value)
    if isinstance(value, Plain):
        return value.text
    if isinstance(value, Flow):
        return _flow(value.value)
    return _quoted(str(value))


def _emit(value: Any, indent: str, out: list[str], indent_lists: bool = False) -> None:
    """Append the lines of a block mapping or sequence ``value`` at ``indent``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if type(item) is Commented:
                _comments(item.before, indent, out)
                _emit_entry(
                    f"{indent}{_key(str(key))}:",
                    item.value,
                    indent,
                    indent + "  ",
                    out,
                    indent_lists=indent_lists,
                )
                _comments(item.after, indent, out)
                continue
            _emit_entry(
                f"{indent}{_key(str(key))}:", item, indent, indent + "  ", out, False, indent_lists
            )
    else:
        for item in value:
            _emit_entry(f"{indent}-", item, indent, indent + "  ", out, True, indent_lists)


def _emit_entry(
    prefix: str,
    item: Any,
    indent: str,
    child: str,
    out: list[str],
    in_list: bool = False,
    indent_lists: bool = False,
) -> None:
    if isinstance(item, dict) and item:
        if in_list:
            nested: list[str] = []
            _emit(item, child, nested, indent_lists)
            out.append(prefix + " " + nested[0][len(child) :])
            out.extend(nested[1:])
        else:
            out.append(prefix)
            _emit(item, child, out, indent_lists)
    elif isinstance(item, list) and item:
        out.append(prefix)
        _emit(item, child if in_list or indent_lists else indent, out, indent_lists)
    elif isinstance(item, dict):
        out.append(prefix + " {}")
    elif isinstance(item, list):
        out.append(prefix + " []")
    elif isinstance(item, str) and "\n" in item:
        block = _block_scalar(item, child)
        out.append(prefix + " " + (block if block is not None else _scalar(item)))
    else:
        out.append(prefix + " " + _scalar(item))


def dump(data: Any, *, indent_lists: bool = False) -> str:
    """One YAML document. ``indent_lists``: a list under a key is indented below it (the
    style people write); by default it starts at the key's column, as kubectl writes."""
    if not isinstance(data, dict | list):
        return _scalar(data) + "\n"
    if not data:
        return "{}\n" if isinstance(data, dict) else "[]\n"
    out: list[str] = []
    _emit(data, "", out, indent_lists)
    return "\n".join(out) + "\n"


def dump_all(documents: Iterable[Any]) -> str:
    return "---\n".join(dump(doc) for doc in documents)
