"""The month's random numbers, drawn where they are used (docs/decisions.md, "Counter-based draws").

Every uniform the month uses is a pure function of four integers: the run's key
(drawn once from the model's seeded generator), the month, the stream (which
process it is for: :data:`STREAMS`) and the row (seat, organisation or platform)
it is for. The value is the row-th output of SplitMix64 (Steele, Lea and Flood
2014) seeded with a mix of key, month and stream: a counter-based generator in the
sense of Salmon et al. (2011), the design parallel simulations use so that a
number does not depend on which other numbers were drawn before it.

Why: the month needs about six uniforms per organisation if every process gets one
per row whether it uses it or not, and most are not used (only organisations
trialling the practice need the adoption draw, only members the turnover draw,
only adopters after the project the abandonment draw). Drawing them all with
``numpy.random.Generator.random`` was a seventh of a large run and a tenth of a
small one, and it was Python work outside the compiled month. Computed in the
compiled month, they cost a few nanoseconds each; the month computes some where they
may be unused (the adoption, turnover and abandonment draws of every organisation)
rather than branch on whether they are needed, since that branch is a coin toss from
one organisation to the next. Each row's number in a month is the same whichever
mechanisms run and whatever the others drew: a knock-out shares every draw with the
full model.

The compiled functions (:func:`stream`, :func:`uniform`, :func:`uniforms`,
:func:`normals`) and the numpy ones (:func:`stream_np`, :func:`uniforms_np`,
:func:`normals_np`) compute the same numbers bit for bit; the numpy ones serve the
numpy reference month of the tests and :func:`month_block`.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: The month's streams in order: what each is for and how many rows it has ("org", "seat", "platform").
STREAMS: tuple[tuple[str, str], ...] = (
    ("meet", "platform"), ("attend", "seat"), ("case", "platform"), ("adopt", "org"), ("replace", "org"),
    ("decision_maker", "org"), ("seat", "seat"), ("fade", "org"), ("case_result", "platform"),
    ("case_result_angle", "platform"),
)
MEET, ATTEND, CASE, ADOPT, REPLACE, DECISION_MAKER, SEAT, FADE, CASE_RESULT, CASE_RESULT_ANGLE = range(len(STREAMS))

_GAMMA = np.uint64(0x9E3779B97F4A7C15)  # SplitMix64's increment (the golden ratio in 64 bits)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11, _S6 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11), np.uint64(6)
_ONE = np.uint64(1)
_UNIT = 1.0 / 9007199254740992.0  # 2**-53: the top 53 bits of a 64-bit word as a float in [0, 1)
_TWO_PI = 2.0 * np.pi


@njit(cache=True)
def _mix(z: np.uint64) -> np.uint64:
    """SplitMix64's output function (a bijection of 64-bit words)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@njit(cache=True)
def stream(key: np.uint64, month: int, which: int) -> np.uint64:
    """The seed of stream ``which`` (:data:`STREAMS`) in ``month`` of the run with ``key``."""
    return _mix(np.uint64(key) ^ _mix(((np.uint64(month) << _S6) | np.uint64(which)) + _ONE))


@njit(cache=True)
def uniform(seed: np.uint64, row: int) -> float:
    """The uniform in [0, 1) of ``row`` in the stream with ``seed``: SplitMix64's ``row``-th output."""
    # np.uint64 casts: numba types a Python int below 2**63 as int64, and int64 with uint64 is float64
    return float(_mix(np.uint64(seed) + (np.uint64(row) + _ONE) * _GAMMA) >> _S11) * _UNIT


@njit(cache=True)
def uniforms(seed: np.uint64, n: int) -> np.ndarray:
    """:func:`uniform` of rows ``0 .. n - 1``, for kernels that take one draw per row as an array."""
    out = np.empty(n)
    for i in range(n):
        out[i] = uniform(seed, i)
    return out


@njit(cache=True)
def normal(seed: np.uint64, angle_seed: np.uint64, row: int) -> float:
    """The standard normal of ``row`` by Box and Muller (1958) from two streams."""
    return np.sqrt(-2.0 * np.log(1.0 - uniform(seed, row))) * np.cos(_TWO_PI * uniform(angle_seed, row))


@njit(cache=True)
def normals(seed: np.uint64, angle_seed: np.uint64, n: int) -> np.ndarray:
    """:func:`normal` of rows ``0 .. n - 1``."""
    out = np.empty(n)
    for i in range(n):
        out[i] = normal(seed, angle_seed, i)
    return out


def _mix_np(z: np.ndarray) -> np.ndarray:
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def stream_np(key: int, month: int, which: int) -> np.uint64:
    """:func:`stream` with numpy (the same number)."""
    with np.errstate(over="ignore"):
        inner = np.array([((month << 6) | which) + 1], dtype=np.uint64)
        return _mix_np(np.uint64(key) ^ _mix_np(inner))[0]


def uniforms_np(seed: np.uint64, n: int) -> np.ndarray:
    """:func:`uniforms` with numpy (the same numbers)."""
    rows = np.arange(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        return (_mix_np(np.uint64(seed) + (rows + _ONE) * _GAMMA) >> _S11).astype(np.float64) * _UNIT


def normals_np(seed: np.uint64, angle_seed: np.uint64, n: int) -> np.ndarray:
    """:func:`normals` with numpy (the same numbers)."""
    return np.sqrt(-2.0 * np.log(1.0 - uniforms_np(seed, n))) * np.cos(_TWO_PI * uniforms_np(angle_seed, n))


def month_block(key: int, month: int, n: int, n_platforms: int, n_seats: int) -> dict[str, np.ndarray]:
    """Every draw of one month, one array per stream of :data:`STREAMS` (``"z"``: the case-study normals).

    The compiled month computes only the draws it uses; this computes them all, for
    the numpy reference month of the tests.
    """
    size = {"org": n, "platform": n_platforms, "seat": n_seats}
    out = {name: uniforms_np(stream_np(key, month, k), size[kind]) for k, (name, kind) in enumerate(STREAMS)}
    out["z"] = normals_np(stream_np(key, month, CASE_RESULT), stream_np(key, month, CASE_RESULT_ANGLE), n_platforms)
    return out
