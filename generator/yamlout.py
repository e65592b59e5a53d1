"""The one YAML dumper: deterministic, every string value quoted, multi-line text as blocks.

Quoting every string keeps consumers that still read YAML 1.1 (``on``, ``no``, ``0777``) from
changing a value's type.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_YAML11_KEYWORDS = {
    "y", "yes", "n", "no", "on", "off", "true", "false", "null", "~",
}  # fmt: skip


class _Dumper(yaml.CSafeDumper):
    pass


def _represent_str(dumper: _Dumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


class _Key(str):
    """A mapping key that may stay unquoted."""


def _represent_key(dumper: _Dumper, value: _Key) -> yaml.Node:
    plain = _PLAIN_KEY.match(value) and value.lower() not in _YAML11_KEYWORDS
    return dumper.represent_scalar(
        "tag:yaml.org,2002:str", str(value), style=None if plain else '"'
    )


def _represent_dict(dumper: _Dumper, value: dict[Any, Any]) -> yaml.Node:
    items = [(_Key(k) if isinstance(k, str) else k, v) for k, v in value.items()]
    return dumper.represent_mapping("tag:yaml.org,2002:map", items, flow_style=False)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Key, _represent_key)
_Dumper.add_representer(dict, _represent_dict)


def dump(data: Any) -> str:
    text: str = yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=4096,
        indent=2,
    )
    return text


def dump_all(documents: Iterable[Any]) -> str:
    return "---\n".join(dump(doc) for doc in documents)
