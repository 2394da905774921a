"""Global sensitivity analysis of a finished Sobol or Morris sweep (SALib).

The model is stochastic, so each sampled point has several replications; they
are averaged before analysis, and the indices describe the expected outcome
(for a yes/no outcome such as ``scaled``: its probability). With common random
numbers (the spec default) every point sees the same replication seeds, so the
averaged response is a smooth function of the parameters and noise does not
masquerade as interaction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import LasimInputError

from . import plots
from .files import atomic_write_json, provenance, write_csv
from .spec import ExperimentSpec
from .store import Store, load_results, outcome_columns

CONF_LEVEL = 0.95
NUM_RESAMPLES = 200


@dataclass
class SensitivityResult:
    """Tables from one analysis; ``notes`` says which outcomes were left out and why."""

    method: str
    indices: pd.DataFrame                     # Sobol: S1/ST (+conf); Morris: mu, mu*, sigma
    s2: pd.DataFrame | None = None
    convergence: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def sample_means(df: pd.DataFrame, n_samples: int, outcomes: list[str]) -> tuple[pd.DataFrame,
                                                                                   list[str]]:
    """Average replications per sampled point; keep outcomes SALib can analyse.

    Returns the per-sample means (indexed 0..n_samples-1) and notes on outcomes
    dropped: those undefined at some point (e.g. ``scale_month`` where nothing
    scaled) or constant (their variance, the denominator of every index, is 0).
    """
    notes = []
    numeric = {}
    for name in outcomes:
        col = df[name]
        if col.dtype == object or isinstance(col.dtype, pd.StringDtype):
            continue
        numeric[name] = col.astype(float)
    means = pd.DataFrame(numeric).groupby(df["sample_id"]).mean()
    missing = n_samples - len(means)
    if missing:
        raise LasimInputError(
            f"{missing} of {n_samples} sampled points have no finished run (failed or not "
            "yet run); resume the sweep or fix the failures before analysing"
        )
    keep = []
    for name in means.columns:
        y = means[name]
        if y.isna().any():
            notes.append(f"{name}: left out, undefined at {int(y.isna().sum())} points")
        elif np.isclose(y.var(), 0.0):
            notes.append(f"{name}: left out, the same value ({y.iloc[0]:g}) at every point")
        else:
            keep.append(name)
    return means[keep].sort_index(), notes


def sobol_indices(spec: ExperimentSpec, means: pd.DataFrame, *,
                  convergence: bool = True) -> SensitivityResult:
    """S1, ST and S2 with confidence intervals; a convergence table over N/16 .. N."""
    from SALib.analyze import sobol

    problem = spec.salib_problem_dict()
    names = spec.factor_names
    second = spec.sampler.second_order
    per_point = 2 * len(names) + 2 if second else len(names) + 2
    rows, s2_rows, conv_rows = [], [], []
    n_full = spec.sampler.n
    sizes = [n_full]
    if convergence:
        # Prefixes of a scrambled Sobol sequence of power-of-two length are
        # themselves balanced designs, so the first N' base points (and their
        # cross-samples, stored contiguously) form a valid smaller experiment.
        sizes = [n for n in (n_full // 16, n_full // 8, n_full // 4, n_full // 2, n_full)
                 if n >= 4]
        sizes = sorted(set(sizes) | {n_full})
    for outcome in means.columns:
        y = means[outcome].to_numpy()
        for n in sizes:
            with warnings.catch_warnings():
                # Small convergence subsets of a rare yes/no outcome can be constant;
                # SALib warns and returns NaN, which the table shows as it is.
                warnings.filterwarnings("ignore", message="Constant values encountered")
                res = sobol.analyze(problem, y[: n * per_point], calc_second_order=second,
                                    num_resamples=NUM_RESAMPLES, conf_level=CONF_LEVEL,
                                    seed=int(spec.seed) % 2**32)
            for k, name in enumerate(names):
                entry = {"outcome": outcome, "parameter": name, "S1": res["S1"][k],
                         "S1_conf": res["S1_conf"][k], "ST": res["ST"][k],
                         "ST_conf": res["ST_conf"][k]}
                conv_rows.append({"N": n, **entry})
                if n == n_full:
                    rows.append(entry)
            if n == n_full and second:
                for i in range(len(names)):
                    for j in range(i + 1, len(names)):
                        s2_rows.append({"outcome": outcome, "parameter_i": names[i],
                                        "parameter_j": names[j], "S2": res["S2"][i, j],
                                        "S2_conf": res["S2_conf"][i, j]})
    return SensitivityResult(
        "sobol", pd.DataFrame(rows),
        pd.DataFrame(s2_rows) if second else None,
        pd.DataFrame(conv_rows) if convergence else None,
    )


def morris_indices(spec: ExperimentSpec, raw: np.ndarray, means: pd.DataFrame) -> SensitivityResult:
    """Morris mu, mu* (with CI) and sigma per parameter and outcome."""
    from SALib.analyze import morris

    problem = spec.salib_problem_dict()
    rows = []
    for outcome in means.columns:
        res = morris.analyze(problem, raw, means[outcome].to_numpy(), num_resamples=NUM_RESAMPLES,
                             conf_level=CONF_LEVEL, num_levels=spec.sampler.num_levels,
                             seed=int(spec.seed) % 2**32)
        for k, name in enumerate(spec.factor_names):
            rows.append({"outcome": outcome, "parameter": name, "mu": res["mu"][k],
                         "mu_star": res["mu_star"][k], "mu_star_conf": res["mu_star_conf"][k],
                         "sigma": res["sigma"][k]})
    return SensitivityResult("morris", pd.DataFrame(rows))


def analyse(spec: ExperimentSpec, out: str | Path, *, plot: bool = True) -> SensitivityResult:
    """Analyse the sweep of ``spec`` stored in ``out``; tables and plots go to ``out/sensitivity``.

    Raises
    ------
    LasimInputError
        If the spec is not a Sobol or Morris design, or points lack finished runs.
    """
    if spec.sampler.method not in ("sobol", "morris"):
        raise LasimInputError(
            f"{spec.source}: sampler.method = {spec.sampler.method!r}: sensitivity analysis "
            "needs 'sobol' or 'morris'"
        )
    df = load_results(out)
    manifest = df.attrs["manifest"]
    outcomes = list(spec.outcomes) if spec.outcomes else outcome_columns(df, manifest)
    store = Store(out)
    design = store.design()
    means, notes = sample_means(df, spec.n_samples, outcomes)
    if means.empty:
        raise LasimInputError(f"{out}: no outcome varies across the design; nothing to analyse "
                              f"({'; '.join(notes)})")
    if spec.sampler.method == "sobol":
        result = sobol_indices(spec, means)
    else:
        raw = design[spec.factor_names].to_numpy()
        result = morris_indices(spec, raw, means)
    result.notes = notes
    if plot:
        result.files = write_outputs(spec, result, Path(out) / "sensitivity")
    return result


def write_outputs(spec: ExperimentSpec, result: SensitivityResult, folder: Path) -> list[Path]:
    """Plain CSV tables (provenance in ``<table>.provenance.json`` beside each) and PNG plots."""
    prov = provenance()
    meta = {"experiment": spec.name, "scenario": spec.scenario, "root_seed": spec.seed,
            "replications": spec.replications, **prov}
    files = []

    def csv(name: str, df: pd.DataFrame) -> None:
        files.extend(write_csv(folder / name, df, meta))

    def png(name: str, fig: Any) -> None:
        files.append(plots.save_figure(fig, folder / name, meta))

    outcomes = list(result.indices["outcome"].unique())
    if result.method == "sobol":
        csv("sobol_indices.csv", result.indices)
        if result.s2 is not None:
            csv("sobol_s2.csv", result.s2)
        if result.convergence is not None:
            csv("sobol_convergence.csv", result.convergence)
        for o in outcomes:
            png(f"sobol_{o}.png", plots.plot_sobol(result.indices, o))
            if result.s2 is not None:
                png(f"sobol_s2_{o}.png", plots.plot_s2(result.s2, o, spec.factor_names))
            if result.convergence is not None:
                png(f"sobol_convergence_{o}.png", plots.plot_convergence(result.convergence, o))
    else:
        csv("morris_indices.csv", result.indices)
        for o in outcomes:
            png(f"morris_{o}.png", plots.plot_morris(result.indices, o))
    files.append(atomic_write_json(folder / "sensitivity.json", {
        **meta, "method": result.method, "outcomes": outcomes, "notes": result.notes,
        "conf_level": CONF_LEVEL, "num_resamples": NUM_RESAMPLES,
    }))
    return files


def format_table(result: SensitivityResult, top: int = 5) -> str:
    """A short plain-text ranking per outcome for the terminal."""
    lines = []
    key = "ST" if result.method == "sobol" else "mu_star"
    for outcome, g in result.indices.groupby("outcome", sort=False):
        g = g.sort_values(key, ascending=False).head(top)
        lines.append(f"{outcome}:")
        for r in g.itertuples():
            if result.method == "sobol":
                lines.append(f"  {r.parameter:<28} ST {r.ST:6.3f} ± {r.ST_conf:.3f}   "
                             f"S1 {r.S1:6.3f} ± {r.S1_conf:.3f}")
            else:
                lines.append(f"  {r.parameter:<28} mu* {r.mu_star:8.4f} ± {r.mu_star_conf:.4f}"
                             f"   sigma {r.sigma:8.4f}")
    return "\n".join(lines)
