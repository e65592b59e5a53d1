"""The population stability index, as the generated recording rules compute it.

PSI = sum over bins i of (a_i - e_i) * ln(a_i / e_i), with a_i the share of recent traffic and
e_i the share of the reference data in bin i. Source: B. Yurdakul, "Statistical Properties of
Population Stability Index", Western Michigan University, 2018 (eq. 1), which also gives the
usual reading: under 0.1 no significant shift, 0.1 to 0.25 moderate, above 0.25 major.

An empty bin would make the logarithm infinite: both shares are first raised to at least
EPSILON (defined with the rules, `generator.render.drift`), in numpy here and with
``clamp_min`` in PromQL, so the two give the same number.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from generator.render.drift import EPSILON


def psi(actual_counts: Sequence[float], expected_proportions: Sequence[float]) -> float:
    """PSI of observed bin counts against reference proportions (same bins, same order).

    Raises ValueError when the lengths differ or nothing was observed (the share is 0/0).
    """
    counts = np.asarray(actual_counts, dtype=np.float64)
    expected = np.asarray(expected_proportions, dtype=np.float64)
    if counts.shape != expected.shape:
        raise ValueError(f"{counts.size} observed bins against {expected.size} reference bins")
    total = counts.sum()
    if total <= 0:
        raise ValueError("no observations: the PSI is undefined")
    a = np.maximum(counts / total, EPSILON)
    e = np.maximum(expected, EPSILON)
    return float(np.sum((a - e) * np.log(a / e)))
