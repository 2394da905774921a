"""The posterior of a calibration: tables, plots, predictive check and scenario ensemble.

Files written into a calibration directory by :func:`write_outputs`:

``posterior.csv``
    the last generation's particles: one row each, parameter columns and ``weight``;
``posterior_summary.csv``
    per parameter: prior range, weighted mean, sd, 5%, 50% and 95% quantiles;
``generations.csv``
    per generation: epsilon, simulations, accepted particles, acceptance rate;
``predictive.csv``
    the posterior predictive check: per posterior draw, every target statistic,
    its discrepancy and whether it holds;
``marginals.png``, ``pairs.png``, ``epsilon.png``, ``predictive.png``
    the plots;
``posterior_ensemble.toml``
    the posterior as a scenario ensemble (format below);
``calibration.json``
    what was asked, the results and the provenance.

The ensemble format (``format = "lasim-ensemble"``, ``version = 1``)::

    format = "lasim-ensemble"
    version = 1
    scenario = "default"            # base scenario: shipped name or TOML path
    description = "..."
    parameters = ["imitation", "external_influence"]
    weights = "equal"               # members were resampled by posterior weight
    [provenance]                    # lasim version, git commit, source calibration, seed
    ...
    [[members]]                     # one per parameter set
    id = 0
    imitation = 0.041
    external_influence = 0.0098

Member ``i`` is the base scenario with its parameter values applied
(``load_scenario(scenario).with_parameters(**member)``); every member is
equally likely. :func:`load_ensemble` reads and validates such a file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from experiments.executors import make_executor
from experiments.files import atomic_write_text
from experiments.plots import save_figure
from experiments.runs import failed, run_many
from model.ensemble import ENSEMBLE_FORMAT, ENSEMBLE_VERSION  # noqa: E402

from .evaluate import TargetModel
from .priors import UniformPrior
from .simulator import Simulator
from .targets import Target, TargetSet, discrepancy

# --- weighted statistics -------------------------------------------------------------------


def weighted_quantile(values: Sequence[float], weights: Sequence[float], q: float) -> float:
    """Quantile ``q`` of a weighted sample (inverse of the weighted empirical CDF, interpolated)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    order = np.argsort(v)
    v, w = v[order], w[order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, v))


def posterior_frame(history: Any, t: int | None = None) -> pd.DataFrame:
    """Particles of generation ``t`` (default: the last) with a normalised ``weight`` column."""
    df, w = history.get_distribution(m=0, t=t)
    df = df.reset_index(drop=True)
    df.columns = [str(c) for c in df.columns]
    df["weight"] = np.asarray(w, dtype=float) / np.sum(w)
    return df


def posterior_summary(post: pd.DataFrame, priors: Sequence[UniformPrior]) -> pd.DataFrame:
    """Per parameter: prior range and the weighted mean, sd and 5/50/95% quantiles."""
    rows = []
    w = post["weight"].to_numpy()
    for p in priors:
        x = post[p.name].to_numpy(dtype=float)
        mean = float(np.sum(w * x))
        rows.append(
            {
                "parameter": p.name,
                "prior_low": p.low,
                "prior_high": p.high,
                "mean": mean,
                "sd": float(np.sqrt(np.sum(w * (x - mean) ** 2))),
                "q05": weighted_quantile(x, w, 0.05),
                "median": weighted_quantile(x, w, 0.5),
                "q95": weighted_quantile(x, w, 0.95),
            }
        )
    return pd.DataFrame(rows)


def resample(post: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` equally weighted draws from a weighted posterior (systematic resampling)."""
    w = post["weight"].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    positions = (rng.random() + np.arange(n)) / n
    idx = np.searchsorted(np.cumsum(w) / w.sum(), positions)
    idx = np.minimum(idx, len(w) - 1)
    out = post.drop(columns=["weight"]).iloc[idx].reset_index(drop=True)
    return out


# --- plots ---------------------------------------------------------------------------------


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    return save_figure(fig, path, {"what": "lasim calibrate"}, dpi=110)


def plot_marginals(
    post: pd.DataFrame,
    priors: Sequence[UniformPrior],
    path: Path,
    truth: Mapping[str, float] | None = None,
) -> Path:
    """Weighted histogram of each parameter over its prior range, 90% interval shaded."""
    plt = _plt()
    n = len(priors)
    fig, axes = plt.subplots(1, n, figsize=(3.6 * n, 3.0), squeeze=False)
    w = post["weight"].to_numpy()
    for ax, p in zip(axes[0], priors, strict=True):
        x = post[p.name].to_numpy(dtype=float)
        ax.hist(x, bins=20, range=(p.low, p.high), weights=w, density=True, color="#4c72b0")
        lo, hi = weighted_quantile(x, w, 0.05), weighted_quantile(x, w, 0.95)
        ax.axvspan(lo, hi, color="#4c72b0", alpha=0.15, label="90% interval")
        ax.axhline(1.0 / (p.high - p.low), color="grey", ls=":", label="prior")
        if truth and p.name in truth:
            ax.axvline(truth[p.name], color="#c44e52", lw=2, label="true value")
        ax.set_xlabel(p.name)
        ax.set_xlim(p.low, p.high)
    axes[0][0].set_ylabel("posterior density")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Posterior marginals (last generation)")
    return _save(fig, path)


def plot_pairs(post: pd.DataFrame, priors: Sequence[UniformPrior], path: Path) -> Path:
    """Pair plot: histograms on the diagonal, weighted scatter below it."""
    plt = _plt()
    n = len(priors)
    fig, axes = plt.subplots(n, n, figsize=(2.6 * n + 0.6, 2.6 * n + 0.6), squeeze=False)
    w = post["weight"].to_numpy()
    size = 8 + 120 * w / w.max()
    for i, pi in enumerate(priors):
        for j, pj in enumerate(priors):
            ax = axes[i][j]
            if i == j:
                ax.hist(post[pi.name], bins=20, range=(pi.low, pi.high), weights=w, color="#4c72b0")
                ax.set_xlim(pi.low, pi.high)
            elif i > j:
                ax.scatter(post[pj.name], post[pi.name], s=size, alpha=0.4, color="#4c72b0")
                ax.set_xlim(pj.low, pj.high)
                ax.set_ylim(pi.low, pi.high)
            else:
                ax.axis("off")
            if i == n - 1:
                ax.set_xlabel(pj.name)
            if j == 0 and i > 0:
                ax.set_ylabel(pi.name)
    fig.suptitle("Posterior pair plot (marker size: weight)")
    return _save(fig, path)


def plot_epsilon(generations: pd.DataFrame, path: Path) -> Path:
    """Epsilon and acceptance rate over generations."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.2))
    g = generations
    ax.plot(g["generation"], g["epsilon"], "o-", color="#4c72b0")
    ax.set_xlabel("generation")
    ax.set_ylabel("epsilon (acceptance threshold)", color="#4c72b0")
    positive = g["epsilon"] > 0
    if positive.all() and len(g) > 1:
        ax.set_yscale("log")
    ax2 = ax.twinx()
    ax2.plot(g["generation"], g["acceptance_rate"], "s--", color="#dd8452")
    ax2.set_ylabel("acceptance rate", color="#dd8452")
    ax.set_xticks(g["generation"])
    fig.suptitle("ABC-SMC: epsilon over generations")
    return _save(fig, path)


def plot_predictive(targets: TargetSet, pred: pd.DataFrame, path: Path) -> Path:
    """One panel per target: simulated statistics under the posterior against the target."""
    plt = _plt()
    n = len(targets.targets)
    cols = min(4, n)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.8 * cols, 3.0 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    for ax, t in zip(axes.ravel(), targets.targets, strict=False):
        held = pred[f"{t.name}:holds"].mean() if f"{t.name}:holds" in pred else math.nan
        title = t.name + ("" if math.isnan(held) else f" (holds in {held:.0%})")
        if t.kind == "series":
            months = t.observed["month"].to_numpy()
            curves = np.vstack(pred[t.name].to_numpy())
            lo, mid, hi = np.nanpercentile(curves, [5, 50, 95], axis=0)
            ax.fill_between(months, lo, hi, color="#4c72b0", alpha=0.25, label="posterior 90%")
            ax.plot(months, mid, color="#4c72b0", label="posterior median")
            ax.plot(months, t.observed["share"], "o", ms=3, color="#c44e52", label="observed")
            ax.set_xlabel("month")
            ax.set_ylabel(t.quantity.outcome)
            ax.legend(fontsize=7)
            title = f"{t.name} (RMSE median {pred[t.name + ':d'].median():.3f})"
        elif t.kind == "range":
            vals = pred[t.name].replace([np.inf, -np.inf], np.nan).dropna()
            if len(vals):
                ax.hist(vals, bins=15, color="#4c72b0")
            lo = t.low if math.isfinite(t.low) else None
            hi = t.high if math.isfinite(t.high) else None
            x0, x1 = ax.get_xlim()
            ax.axvspan(
                lo if lo is not None else x0,
                hi if hi is not None else x1,
                color="#55a868",
                alpha=0.2,
                label="target range",
            )
            ax.set_xlabel(f"{t.quantity.statistic} {t.quantity.outcome}")
            ax.legend(fontsize=7)
        else:
            a = pred[t.name + ":a"].to_numpy(dtype=float)
            b = pred[t.name + ":b"].to_numpy(dtype=float)
            ax.scatter(b, a, s=12, color="#4c72b0", alpha=0.6)
            finite = np.isfinite(np.r_[a, b])
            top = float(np.nanmax(np.r_[a, b][finite])) if finite.any() else 1.0
            bot = float(np.nanmin(np.r_[a, b][finite])) if finite.any() else 0.0
            xs = np.linspace(min(bot, 0.0), max(top, 1e-9), 50)
            ax.plot(
                xs, t.ratio * xs + t.difference, color="#55a868", label="boundary (holds above)"
            )
            ax.set_xlabel(f"versus: {_arm_label(t, 'b')}", fontsize=8)
            ax.set_ylabel(f"{_arm_label(t, 'a')}", fontsize=8)
            ax.legend(fontsize=7)
        ax.set_title(title, fontsize=9)
    fig.suptitle("Posterior predictive check: simulated targets under the posterior")
    fig.tight_layout()
    return _save(fig, path)


def _arm_label(t: Target, which: str) -> str:
    q = t.quantity if which == "a" else t.versus
    assert q is not None
    arm = ", ".join(f"{k}={v:g}" for k, v in q.overrides) or "calibrated"
    m = "" if q.month is None else (f"@{q.month[0]}-{q.month[1]}" if isinstance(q.month, tuple) else f"@{q.month}")
    return f"{q.statistic} {q.outcome}{m} [{arm}]"


# --- predictive check ----------------------------------------------------------------------


def _evaluate_one(item: tuple[TargetModel, dict[str, float]], seed: int, *,
                  series: bool = False) -> SimpleNamespace:
    """A run function for :func:`experiments.runs.run_many`: one draw's statistics.

    The draw's own runs are seeded inside :class:`TargetModel`; ``seed`` is unused.
    """
    model, params = item
    return SimpleNamespace(summary=model.statistics(params), series=None)


def _map(items: list[tuple[TargetModel, dict[str, float]]], workers: int) -> list[dict[str, Any]]:
    with make_executor(processes=max(1, workers)) as executor:
        runs = run_many(items, [0], executor=executor, run_fn=_evaluate_one)
    bad = failed(runs)
    if bad:
        raise RuntimeError(f"a posterior draw failed: {bad[0].error}")
    return [r.summary for r in runs]


def predictive_check(
    targets: TargetSet,
    simulator: Simulator,
    draws: pd.DataFrame,
    *,
    seed: int,
    workers: int = 1,
    fixed: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Simulate every target for each posterior draw.

    Returns one row per draw: the parameters, each statistic (``name``, or
    ``name:a``/``name:b``), its weighted discrepancy ``name:d`` and, for range and
    compare targets, ``name:holds``.
    """
    model = TargetModel(targets, simulator, int(seed), fixed)
    rows = [dict(r) for r in draws.to_dict(orient="records")]
    stats = _map([(model, r) for r in rows], workers)
    out = []
    for params, s in zip(rows, stats, strict=True):
        row: dict[str, Any] = dict(params)
        for t in targets.targets:
            keys = [t.name] if t.kind != "compare" else [t.name + ":a", t.name + ":b"]
            for k in keys:
                row[k] = s[k]
            d = discrepancy(t, s)
            row[t.name + ":d"] = d
            if t.kind != "series":
                row[t.name + ":holds"] = d == 0.0
        out.append(row)
    return pd.DataFrame(out)


# --- ensemble ------------------------------------------------------------------------------


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    s = str(v).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{s}"'


def write_ensemble(
    path: Path,
    scenario: str,
    members: pd.DataFrame,
    *,
    description: str,
    provenance: Mapping[str, Any],
    integer: Mapping[str, bool] | None = None,
) -> Path:
    """Write parameter sets as a ``lasim-ensemble`` TOML file (format in the module docstring)."""
    params = [c for c in members.columns]
    lines = [
        f"# {description}",
        "# Each [[members]] entry is the base scenario with these parameter values;",
        "# all members are equally likely (drawn from the posterior by its weights).",
        f'format = "{ENSEMBLE_FORMAT}"',
        f"version = {ENSEMBLE_VERSION}",
        f"scenario = {_toml_value(scenario)}",
        f"description = {_toml_value(description)}",
        f"parameters = {_toml_value(params)}",
        'weights = "equal"',
        "",
        "[provenance]",
    ]
    lines += [f"{k} = {_toml_value(v)}" for k, v in provenance.items()]
    for i, rec in enumerate(members.to_dict(orient="records")):
        lines += ["", "[[members]]", f"id = {i}"]
        for k in params:
            v = rec[k]
            if integer and integer.get(k):
                v = int(round(float(v)))
            lines.append(f"{k} = {_toml_value(v)}")
    return atomic_write_text(path, "\n".join(lines) + "\n")


# The reader lives in the model layer so that `lasim run` and `lasim sweep` can
# accept an ensemble without importing calibration.
from model.ensemble import Ensemble, load_ensemble  # noqa: E402, F401
