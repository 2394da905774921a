"""The statistics every report of runs uses: shares with Wilson intervals, paired
differences, and the table of a scenario's outcomes over its replications.

One module so ``lasim run``, ``lasim compare`` and the explorer give the same
number the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

Z95 = 1.959963984540054


def wilson(successes: int, n: int) -> tuple[float, float, float]:
    """Share and Wilson 95% interval of ``successes`` out of ``n`` (honest near 0% and 100%)."""
    if n == 0:
        return math.nan, math.nan, math.nan
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    # rounding can put a bound a hair past p at 0% or 100%
    return p, min(p, max(0.0, centre - half)), max(p, min(1.0, centre + half))


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Mean of ``b - a`` over paired runs with a normal 95% interval.

    With common random numbers the runs are paired by replication, and the
    interval of the paired difference is what says whether designs differ.
    """
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    n = d.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(d.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = Z95 * float(d.std(ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def outcome_table(summary: pd.DataFrame, fields: Sequence[str]) -> pd.DataFrame:
    """Mean and 95% interval of each outcome over replications.

    Yes/no outcomes: the share of runs with a Wilson 95% interval; numbers: the
    mean with the 2.5-97.5 percentiles of the runs (the spread a programme should
    expect, not the uncertainty of the mean). Months that never happened are
    left out and counted in ``n``.
    """
    rows = []
    for f in fields:
        col = summary[f]
        if col.dtype == bool:
            k, n = int(col.sum()), len(col)
            p, lo, hi = wilson(k, n)
            rows.append({"outcome": f, "mean": p, "low": lo, "high": hi, "n": n, "kind": "share of runs"})
        else:
            vals = col.replace([np.inf, -np.inf], np.nan).dropna().to_numpy(dtype=float)
            if vals.size == 0:
                rows.append({"outcome": f, "mean": math.nan, "low": math.nan, "high": math.nan, "n": 0,
                             "kind": "never"})
                continue
            lo, hi = np.percentile(vals, [2.5, 97.5])
            rows.append({"outcome": f, "mean": vals.mean(), "low": lo, "high": hi, "n": vals.size,
                         "kind": "mean, 2.5-97.5%"})
    return pd.DataFrame(rows)
