"""Every hostile file of the corpus gives a located error naming the file, or a faithful
result; never a traceback. The real CLI runs in its own process for each case."""

from __future__ import annotations

from pathlib import Path

import pytest

from reliability.corpus import Case, cases, check_case


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.name)
def test_hostile_file(case: Case, tmp_path: Path) -> None:
    _, wrong = check_case(case, tmp_path)

    assert wrong == []


def test_the_corpus_covers_every_class() -> None:
    kinds = {case.kind for case in cases()}

    assert kinds == {"yaml", "size", "tags", "encoding", "paths", "names", "values"}
