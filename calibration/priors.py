"""Priors for calibration: uniform over a parameter's allowed range or the targets file's range."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model.errors import LasimInputError, did_you_mean

from .targets import check_prior_range


@dataclass(frozen=True)
class UniformPrior:
    """A uniform prior on ``[low, high]`` for one parameter."""

    name: str
    low: float
    high: float
    integer: bool = False
    source: str = "parameter range"


def build_priors(
    params: Sequence[str],
    specs: Mapping[str, Any],
    given: Mapping[str, tuple[float, float]] | None = None,
    *,
    where: str = "--params",
) -> list[UniformPrior]:
    """Uniform priors for ``params``: the targets file's ``[priors]`` or the allowed range.

    Parameters
    ----------
    params : sequence of str
        Parameters to calibrate.
    specs : mapping
        ``model.scenario.parameter_specs()`` (or a fake): allowed ranges.
    given : mapping, optional
        ``name -> (low, high)`` from the targets file.
    where : str
        Names the source in error messages.

    Raises
    ------
    LasimInputError
        An unknown, repeated or empty list of parameters, or a prior outside the
        parameter's allowed range.
    """
    if not params:
        raise LasimInputError(f"{where}: no parameters to calibrate (give --params a,b,c)")
    if len(set(params)) != len(params):
        raise LasimInputError(f"{where}: a parameter is listed twice: {', '.join(params)}")
    out = []
    for name in params:
        if name not in specs:
            raise LasimInputError(
                f"{where}: unknown parameter {name!r}{did_you_mean(name, specs)}; known: {', '.join(sorted(specs))}"
            )
        spec = specs[name]
        if given and name in given:
            lo, hi = given[name]
            check_prior_range(name, lo, hi, spec, where=f"{where}: priors.{name}")
            out.append(UniformPrior(name, lo, hi, bool(spec.integer), "targets file"))
        else:
            if not spec.low < spec.high:
                raise LasimInputError(f"{where}: parameter {name!r} has an empty range")
            out.append(UniformPrior(name, float(spec.low), float(spec.high), bool(spec.integer)))
    return out


def pyabc_distribution(priors: Sequence[UniformPrior]) -> Any:
    """The priors as a ``pyabc.Distribution`` of ``scipy.stats.uniform`` variables."""
    import pyabc

    return pyabc.Distribution(
        **{p.name: pyabc.RV("uniform", p.low, p.high - p.low) for p in priors}
    )
