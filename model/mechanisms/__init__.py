"""The monthly processes of the model, one module each, as pure functions over arrays.

Every function takes arrays (and, where it draws, a ``numpy.random.Generator``)
and returns new arrays; none touches the model object, so each is tested alone
(tests/test_mechanisms.py) and documented in docs/ODD.md under its process number.
"""

import numpy as np

_TINY = 1e-12


def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with 0 where ``den`` is 0 (callers guarantee ``num`` is 0 there too).

    Cheaper than ``np.divide(..., where=...)`` on the small arrays of a default
    run, where per-call overhead, not arithmetic, is the cost.
    """
    return num / np.maximum(den, _TINY)
