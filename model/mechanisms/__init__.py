"""The monthly processes of the model, one module each, as pure functions over arrays.

Every function takes arrays (and, where it draws, a ``numpy.random.Generator``)
and returns new arrays; none touches the model object, so each is tested alone
(tests/test_mechanisms.py) and documented in docs/ODD.md under its process number.
"""

import numpy as np

_TINY = 1e-12


def attending(attended: np.ndarray, edge_agent: np.ndarray, edge_platform: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Organisation and platform of each seat whose organisation attended (``attended`` is boolean per seat).

    About a fifth of seats attend in a month, so working on these alone is much
    cheaper; the sums come out bit for bit the same, since the seats left out
    would only have added zeros.
    """
    idx = np.asarray(attended).nonzero()[0]  # np.flatnonzero is a slower wrapper of this
    return edge_agent[idx], edge_platform[idx]


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den`` is 0 (callers guarantee ``num`` is 0 there too).

    Cheaper than ``np.divide(..., where=...)`` on the small arrays of a default
    run, where per-call overhead, not arithmetic, is the cost.
    """
    return num / np.maximum(den, _TINY)
