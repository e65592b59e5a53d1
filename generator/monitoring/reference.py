"""Reference data for a profile: a CSV file (with or without a header) or a ``.npy`` array,
one row per example, its columns in the order of the model's input features.

Every bad cell, row or shape is reported as a located `Problem` (``file:line:col`` for CSV,
``file:1:1`` for a whole file); nothing is guessed or skipped.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.digest import file_sha256
from generator.problems import InputError, Problem

MAX_PROBLEMS = 20
"""A file with a systematic fault (wrong delimiter, other model) would list every row."""


@dataclass(frozen=True)
class Reference:
    """The rows as float64 [rows, columns], the header's names (None without one), the file's
    sha256 and how it is shown in messages."""

    values: np.ndarray
    names: tuple[str, ...] | None
    sha256: str
    shown: str


def _number(cell: str) -> float | None:
    try:
        value = float(cell)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _column_of(line: str, row: Sequence[str], index: int) -> int:
    """1-based character column of field ``index``; exact for unquoted rows, else the field's
    ordinal position is all we know (column 1)."""
    if '"' in line:
        return 1
    return sum(len(cell) + 1 for cell in row[:index]) + 1


def _read_csv(path: Path, shown: str, width: int, layout: str) -> Reference:
    text = path.read_text(encoding="utf-8-sig")
    problems: list[Problem] = []
    rows: list[list[float]] = []
    names: tuple[str, ...] | None = None
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        row = next(csv.reader([line]))
        values = [_number(cell) for cell in row]
        if number == 1 and all(v is None for v in values):
            names = tuple(cell.strip() for cell in row)
            if len(names) != width:
                problems.append(
                    Problem(
                        shown,
                        1,
                        1,
                        f"the header names {len(names)} columns, but the model's inputs take "
                        f"{width} ({layout})",
                        "give one column per input feature, in the inputs' order",
                    )
                )
            continue
        if len(row) != width:
            problems.append(
                Problem(
                    shown,
                    number,
                    1,
                    f"row has {len(row)} columns, but the model's inputs take {width} ({layout})",
                    "give one column per input feature, in the inputs' order",
                )
            )
            continue
        for index, value in enumerate(values):
            if value is None:
                problems.append(
                    Problem(
                        shown,
                        number,
                        _column_of(line, row, index),
                        f"column {index + 1}: {row[index]!r} is not a finite number",
                        "reference data holds numbers only (a header, if any, on line 1)",
                    )
                )
        rows.append([v if v is not None else math.nan for v in values])
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InputError(problems[:MAX_PROBLEMS])
    array = np.array(rows, dtype=np.float64).reshape(len(rows), width)
    return Reference(array, names, "", shown)


def _read_npy(path: Path, shown: str, width: int, layout: str) -> Reference:
    try:
        array = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise InputError(
            [Problem(shown, 1, 1, f"not a numpy .npy array: {e}", "save it with numpy.save")]
        ) from e
    if array.ndim == 1 and width == 1:
        array = array.reshape(-1, 1)
    if array.ndim != 2 or array.shape[1] != width:
        raise InputError(
            [
                Problem(
                    shown,
                    1,
                    1,
                    f"the array has shape {list(array.shape)}, but the model's inputs take "
                    f"[rows, {width}] ({layout})",
                    "give one column per input feature, in the inputs' order",
                )
            ]
        )
    if array.dtype.kind not in "biuf":
        raise InputError([Problem(shown, 1, 1, f"the array holds {array.dtype}, not numbers", "")])
    values = array.astype(np.float64)
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, column = (int(v) for v in bad[0])
        raise InputError(
            [
                Problem(
                    shown,
                    1,
                    1,
                    f"row {row} column {column}: {values[row, column]} is not a finite number "
                    f"({len(bad)} such cells)",
                    "reference data holds finite numbers only",
                )
            ]
        )
    return Reference(values, None, "", shown)


def read_reference(path: Path, shown: str, width: int, layout: str) -> Reference:
    """Rows of ``path`` (``.npy``: a numpy array; anything else: CSV), ``width`` columns each.

    ``layout`` describes the expected columns for messages (e.g. "input: 4"). Raises
    InputError with every problem found (at most MAX_PROBLEMS).
    """
    try:
        sha256 = file_sha256(path)
    except OSError as e:
        raise InputError([Problem(shown, 0, 0, f"cannot read the reference data: {e}")]) from e
    reader = _read_npy if path.suffix == ".npy" else _read_csv
    try:
        reference = reader(path, shown, width, layout)
    except UnicodeDecodeError as e:
        raise InputError([Problem(shown, 1, 1, f"not a UTF-8 CSV file: {e}")]) from e
    return Reference(reference.values, reference.names, sha256, shown)
