"""DriftMonitor's binning rules, in process: bin edges are half-open ``[e[i-1], e[i])``, NaN is
counted nowhere, labels the reference never produced go to ``__other__``, string labels count
like integer ones, and a batch counts exactly what its requests count one by one."""

from __future__ import annotations

import numpy as np
import pytest

from serving.drift import OTHER_CLASS, Distribution, DriftMonitor, Profile, bin_counts


def monitor(classes: tuple[str, ...] = ("0", "1", "2")) -> DriftMonitor:
    profile = Profile(
        model="m",
        artifact_sha256="0" * 64,
        features=(
            Distribution("x", "input", 0, (1.0, 2.0), None, (0.2, 0.5, 0.3)),
            Distribution("y", "input", 1, (0.0,), None, (0.5, 0.5)),
        ),
        outputs=(Distribution("label", "label", 0, None, classes, (0.2, 0.3, 0.5)),),
    )
    return DriftMonitor(f"m-{'-'.join(classes)}", profile)


def test_edges_are_half_open_and_values_on_an_edge_go_up() -> None:
    values = np.array([-np.inf, 0.5, 1.0, 1.5, 2.0, 9.0, np.inf])
    edges = np.array([1.0, 2.0])

    assert bin_counts(values, edges).tolist() == [2, 2, 3]
    assert (
        bin_counts(values, edges).tolist()
        == np.bincount(np.searchsorted(edges, values, side="right"), minlength=3).tolist()
    )


def test_float32_values_compare_with_the_float64_edges() -> None:
    """The profile's edges are float64 quantiles of float32 data: 0.1 as float32 is above 0.1."""
    assert bin_counts(np.array([0.1], dtype=np.float32), np.array([0.1])).tolist() == [0, 1]
    assert bin_counts(np.array([0.1], dtype=np.float64), np.array([0.1])).tolist() == [0, 1]
    below = np.nextafter(0.1, 0.0)
    assert bin_counts(np.array([below]), np.array([0.1])).tolist() == [1, 0]


def test_counts_per_series_in_profile_order() -> None:
    watched = monitor()
    inputs = {"input": np.array([[0.5, -1.0], [1.0, 0.0], [2.5, np.nan]], dtype=np.float32)}
    outputs = {"label": np.array([2, 2, 7], dtype=np.int64)}

    counts = watched.counts([(inputs, outputs)])

    # x: bins 0,1,2 | y: bins 0,1 (NaN nowhere) | label: 0,1,2,__other__
    assert counts.tolist() == [1, 1, 1, 1, 1, 0, 0, 2, 1]


def test_string_labels_count_like_integer_ones() -> None:
    watched = monitor(("cat", "dog", "eel"))
    outputs = {"label": np.array([b"dog", b"dog", b"fox"], dtype=np.object_)}

    counts = watched.counts([({}, outputs)])

    assert counts[-4:].tolist() == [0, 2, 0, 1]
    assert OTHER_CLASS == "__other__"


def test_a_batch_counts_what_its_requests_count_one_by_one() -> None:
    watched = monitor()
    rng = np.random.default_rng(3)
    requests = [
        (
            {"input": rng.normal(1.5, 1.0, (rows, 2)).astype(np.float32)},
            {"label": rng.integers(0, 4, rows)},
        )
        for rows in (1, 5, 64, 2)
    ]
    one_by_one = sum(watched.counts([request]) for request in requests)

    assert watched.counts(requests).tolist() == pytest.approx(np.asarray(one_by_one).tolist())
    assert int(watched.counts(requests)[:3].sum()) == 72


def test_float32_counts_equal_the_float64_comparison() -> None:
    """The float32 fast path compares against the least float32 at or above each edge: the
    counts are those of comparing every value as float64."""
    rng = np.random.default_rng(11)
    values = rng.normal(0.0, 1.0, 5000).astype(np.float32)
    edges = np.sort(np.concatenate([rng.normal(0.0, 1.0, 9), values[:5].astype(np.float64)]))
    edges = np.unique(np.concatenate([edges, np.nextafter(edges, -np.inf)]))
    wide = values.astype(np.float64)
    expected = np.bincount(np.searchsorted(edges, wide, side="right"), minlength=len(edges) + 1)

    assert bin_counts(values, edges).tolist() == expected.tolist()


def test_integer_labels_outside_the_classes_count_as_other() -> None:
    watched = monitor()
    counts = watched.counts([({}, {"label": np.array([-1, 0, 2, 2, 9], dtype=np.int64)})])

    assert counts[-4:].tolist() == [1, 0, 2, 2]
