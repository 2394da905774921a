"""The statistics every report of runs uses: shares with Wilson intervals, paired
differences, and the table of a scenario's outcomes over its replications.

One module so ``lasim run``, ``lasim compare`` and the explorer give the same
number the same interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import t as student_t

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


def mean_interval(values: ArrayLike) -> tuple[float, float, float]:
    """Mean of ``values`` and the Student-t 95% interval of that mean (NaN and inf dropped).

    The uncertainty of an expected value (a design's mean cost), not the spread of the
    runs; with one value the interval is undefined (NaN).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(v.mean())
    if v.size == 1:
        return mean, math.nan, math.nan
    half = float(student_t.ppf(0.975, v.size - 1)) * float(v.std(ddof=1)) / math.sqrt(v.size)
    return mean, mean - half, mean + half


class PairedDifference(NamedTuple):
    """Mean of ``b - a`` over paired runs, its 95% interval and the number of pairs used."""

    mean: float
    low: float
    high: float
    n: int


#: Fewest paired runs on which a difference may be called "clear". A t interval of
#: yes/no differences leans on a normal approximation that a handful of runs does not
#: support (with 6 runs a design that scaled in 6 and one that scaled in 2 "differed
#: clearly"); about 20 pairs is where the approximation's coverage settles for shares
#: away from 0 and 1, and the project's rule is that no difference is called clear on a
#: handful of runs.
MIN_CLEAR_PAIRS = 20


def is_clear(low: float, high: float, pairs: int) -> bool:
    """Whether a paired 95% interval excludes zero on at least :data:`MIN_CLEAR_PAIRS` pairs."""
    return bool(pairs >= MIN_CLEAR_PAIRS and np.isfinite(low) and (low > 0 or high < 0))


def paired_difference(a: ArrayLike, b: ArrayLike) -> PairedDifference:
    """Mean of ``b - a`` over paired runs with a Student-t 95% interval.

    With common random numbers the runs are paired (by replication or seed), and
    the interval of the paired difference is what says whether designs differ. The
    t quantile keeps the interval honest at the few replications a knock-out or a
    quick comparison uses (at n = 5 it is 42% wider than the normal one). A pair
    where either value is undefined (NaN, a month that never came) is dropped.
    When every value lies in [0, 1] (a share or a yes/no) the interval is clipped
    to [-1, 1], where any difference of two such values lies.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    ok = np.isfinite(a) & np.isfinite(b)
    a, b = a[ok], b[ok]
    d = b - a
    n = int(d.size)
    if n == 0:
        return PairedDifference(math.nan, math.nan, math.nan, 0)
    mean = float(d.mean())
    if n == 1:
        return PairedDifference(mean, math.nan, math.nan, 1)
    half = float(student_t.ppf(0.975, n - 1)) * float(d.std(ddof=1)) / math.sqrt(n)
    low, high = mean - half, mean + half
    if min(a.min(), b.min()) >= 0 and max(a.max(), b.max()) <= 1:
        low, high = max(low, -1.0), min(high, 1.0)
    return PairedDifference(mean, low, high, n)


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
