"""yamlout.py: what a file people edit needs (comments, one-line values, enum tokens) read
back by a YAML loader as the data that was written."""

from __future__ import annotations

import pytest
import yaml

from generator.yamlout import Commented, Flow, Plain, dump, inline


def test_comments_flow_and_plain_tokens_load_back_as_the_data() -> None:
    data = {
        "kind": Commented("Model", before=("what this is",)),
        "spec": {
            "resources": Commented(Flow({"cpu": "500m", "memory": "512Mi"}), before=("a", "b")),
            "tensors": [Flow({"name": "x", "datatype": Plain("FP32"), "shape": [-1, 4]})],
        },
        "last": Commented(1, after=("trailing",)),
    }

    text = dump(data, indent_lists=True)

    assert text == (
        "# what this is\n"
        'kind: "Model"\n'
        "spec:\n"
        "  # a\n"
        "  # b\n"
        '  resources: {cpu: "500m", memory: "512Mi"}\n'
        "  tensors:\n"
        '    - {name: "x", datatype: FP32, shape: [-1, 4]}\n'
        "last: 1\n"
        "# trailing\n"
    )
    assert yaml.safe_load(text) == {
        "kind": "Model",
        "spec": {
            "resources": {"cpu": "500m", "memory": "512Mi"},
            "tensors": [{"name": "x", "datatype": "FP32", "shape": [-1, 4]}],
        },
        "last": 1,
    }


def test_lists_start_at_the_key_column_unless_asked() -> None:
    assert dump({"a": [1, 2]}) == "a:\n- 1\n- 2\n"
    assert dump({"a": [1, 2]}, indent_lists=True) == "a:\n  - 1\n  - 2\n"


@pytest.mark.parametrize("token", ["on", "No", "null", "1e3", "0777", "a b", "x:y", "", "-1"])
def test_plain_refuses_what_a_loader_would_read_otherwise(token: str) -> None:
    with pytest.raises(ValueError, match="plain YAML scalar"):
        Plain(token)


def test_inline_quotes_strings_and_keeps_tokens_plain() -> None:
    assert inline({"name": 'a"b', "datatype": Plain("INT64"), "on": True}) == (
        '{name: "a\\"b", datatype: INT64, "on": true}'
    )


def test_a_comment_cannot_break_the_line() -> None:
    with pytest.raises(ValueError, match="line break"):
        dump({"a": Commented(1, before=("x\ny",))})
