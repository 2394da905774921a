"""Is the choice robust? Every design run over the same sampled conditions.

``lasim compare A B C --uncertain FILE`` asks what a designer cannot know: would
the ranking change if facilitation is weaker, the government less involved or the
donor shorter-lived than hoped? ``FILE`` gives parameter ranges in the sweep
spec's syntax (``[factors.NAME]`` tables, ``[sampler]``); a Latin hypercube (or a
factorial grid) of conditions is drawn once with a fixed seed, and every design
runs every condition with the same replication seeds (common random numbers:
design A and design B in condition 3, replication 2 share their random draws as
far as their structures allow). For each design the report gives:

- **frequency best**: the share of conditions where it has the highest P(outcome)
  (designs tied at the top all count as best there, so the shares can sum above
  1), with a Wilson interval over conditions;
- **regret**: per condition, P(outcome) of that condition's best design minus its
  own; mean (with a t interval over conditions) and maximum (Savage's minimax-regret
  criterion, as EMA Workbench's robustness metrics use it);
- **the flip box**: the overall winner (highest mean P over conditions; ties the
  cheaper) is beaten (another design has a higher P) in some conditions; PRIM
  (EMA Workbench, as :mod:`experiments.discovery`) finds the box of conditions
  where that happens.

A condition's P(outcome) is a share of ``replications`` runs, so "best" and
"regret" carry that sampling noise; ``clear_flips`` counts only conditions where
another design beats the winner with a paired 95% interval that excludes zero, on
at least :data:`~experiments.statistics.MIN_CLEAR_PAIRS` replications (with fewer, none
is called clear).
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from model.errors import LasimInputError
from model.runner import replication_seeds
from model.scenario import parameter_specs
from model.tomlfile import parse_toml
from model.validation import format_validation_error

from .discovery import _pick, _restricted, ema_analysis
from .discovery import describe as describe_box
from .executors import Executor
from .files import atomic_write, atomic_write_json, atomic_write_text, provenance, write_csv
from .report import _colour, _design_axis, json_safe, render_png
from .runs import Variant, failed, run_many
from .spec import ExperimentSpec, FactorFile, SamplerFile, _check_sampler_fits
from .statistics import MIN_CLEAR_PAIRS, is_clear, mean_interval, paired_difference, wilson
from .tasks import RunFunction

#: Samplers that make conditions (Sobol and Morris designs are for sensitivity indices).
CONDITION_SAMPLERS = ("lhs", "factorial")


class UncertainFile(BaseModel):
    """An ``--uncertain`` file: the parameter ranges the choice should survive.

    The ``[factors.NAME]`` and ``[sampler]`` tables are the sweep spec's; only
    ``lhs`` (default, ``n = 16``) and ``factorial`` samplers make sense here.
    """

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    description: str = ""
    replications: int = Field(10, ge=1, le=10_000)
    seed: int = Field(0, ge=0)
    sampler: SamplerFile = Field(default_factory=lambda: SamplerFile(method="lhs", n=16))
    factors: dict[str, FactorFile] = Field(min_length=1)

    @field_validator("factors", mode="before")
    @classmethod
    def _factors_are_parameters(cls, raw: Any) -> Any:
        if not isinstance(raw, dict) or not raw:
            raise ValueError("needs at least one [factors.NAME] table naming a scenario parameter")
        pspecs = parameter_specs()
        for name in raw:
            if name not in pspecs:
                raise ValueError(f"factors = {name!r}: unknown parameter; allowed: {', '.join(sorted(pspecs))}")
        return raw


@dataclass(frozen=True)
class Uncertainties:
    """Checked conditions: the sampled parameter values, replications and seeds."""

    source: str
    conditions: pd.DataFrame  # condition, then one column per factor
    factors: tuple[str, ...]
    integers: frozenset[str]
    replications: int
    seed: int
    sampler: dict[str, Any]

    @property
    def seeds(self) -> list[int]:
        return replication_seeds(self.seed, self.replications)

    def values(self, i: int) -> dict[str, Any]:
        row = self.conditions.iloc[i]
        return {f: (int(row[f]) if f in self.integers else float(row[f])) for f in self.factors}


def load_uncertainties(path: str | Path, scenarios: Sequence[Any] = ()) -> Uncertainties:
    """Read an ``--uncertain`` file, sample its conditions and check each against every design.

    Raises
    ------
    LasimInputError
        One line naming the file, the field (or the condition and design) and what is allowed.
    """
    source = str(path)
    p = Path(path)
    if not p.is_file():
        raise LasimInputError(f"--uncertain {source}: no such file (give a TOML file with [factors.NAME] ranges)")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LasimInputError(f"--uncertain {source}: cannot read it ({exc.__class__.__name__})") from None
    data = parse_toml(text, source)
    try:
        parsed = UncertainFile.model_validate(dict(data))
    except ValidationError as exc:
        raise LasimInputError(format_validation_error(exc, source, UncertainFile)) from None
    method = parsed.sampler.method
    if method not in CONDITION_SAMPLERS:
        raise LasimInputError(f"{source}: sampler.method = {method!r}: conditions are drawn with "
                              f"{' or '.join(CONDITION_SAMPLERS)}")
    pspecs = parameter_specs()
    try:
        factors = [body.factor(name, method, pspecs[name]) for name, body in parsed.factors.items()]
        _check_sampler_fits(method, factors)
    except ValueError as exc:
        raise LasimInputError(f"{source}: {exc}") from None
    spec = ExperimentSpec(name="uncertain", scenario="default", factors=tuple(factors), sampler=parsed.sampler.spec(),
                          replications=parsed.replications, seed=parsed.seed, source=source)
    if spec.n_samples * parsed.replications * max(1, len(scenarios)) > 1_000_000:
        raise LasimInputError(f"{source}: {spec.n_samples} conditions x {parsed.replications} replications x "
                              f"{len(scenarios)} designs is too many runs (at most 1,000,000)")
    _, samples = spec.design()
    conditions = samples.rename(columns={"sample_id": "condition"})
    unc = Uncertainties(source, conditions, tuple(f.name for f in factors),
                        frozenset(f.name for f in factors if f.integer), parsed.replications, parsed.seed,
                        spec.sampler.to_dict())
    for i in range(len(conditions)):
        for scenario in scenarios:
            try:
                scenario.with_parameters(**unc.values(i))
            except LasimInputError as exc:
                raise LasimInputError(f"{source}: condition {i} for design {scenario.name}: {exc}") from None
    return unc


@dataclass
class Robustness:
    """Results of a robustness run: runs, per-condition table, per-design summary, the flip box."""

    outcome: str
    designs: list[str]
    uncertain: Uncertainties
    runs: pd.DataFrame
    per_condition: pd.DataFrame
    summary: pd.DataFrame
    winner: str
    flips: int
    clear_flips: int
    box: dict[str, Any] | None
    lines: list[str] = field(default_factory=list)

    def write(self, folder: str | Path) -> dict[str, Path]:
        """Write the files of :func:`write_robustness` into ``folder``."""
        return write_robustness(self, folder)


def run_robustness(designs: Sequence[Any], uncertain: Uncertainties, outcome: str = "scaled", *,
                   executor: Executor | None = None, progress: Callable[[int, int], None] | None = None,
                   run_fn: str | RunFunction | None = None) -> Robustness:
    """Run every design in every condition with the same seeds, and analyse the ranking.

    Parameters
    ----------
    designs
        :class:`experiments.compare.Design` objects (``label`` and ``scenario``).
    uncertain
        From :func:`load_uncertainties`.
    outcome
        The yes/no outcome the designs are ranked on.
    executor, progress, run_fn
        As :func:`experiments.compare.run_comparison`.
    """
    n_c = len(uncertain.conditions)
    seeds = uncertain.seeds
    variants = [Variant(d.scenario, uncertain.values(c)) for d in designs for c in range(n_c)]
    total = len(variants) * len(seeds)
    counter = iter(range(1, total + 1))
    done = run_many(variants, seeds, executor=executor, run_fn=run_fn,
                    on_result=(lambda run: progress(next(counter), total)) if progress else None)
    bad = failed(done)
    if bad:
        r = bad[0]
        d, c = divmod(r.scenario_index, n_c)
        raise LasimInputError(f"{len(bad)} of {total} robustness runs failed; first: design {designs[d].label}, "
                              f"condition {c}, replication {r.replication} (seed {r.seed}): {r.error}")
    rows = []
    for run in done:
        d, c = divmod(run.scenario_index, n_c)
        s = run.summary or {}
        rows.append({"design": designs[d].label, "design_index": d, "condition": c, "replication": run.replication,
                     "seed": run.seed, outcome: bool(s[outcome]), "total_cost": float(s["total_cost"])})
    runs = pd.DataFrame(rows).sort_values(["design_index", "condition", "replication"], kind="stable")
    return analyse(runs.reset_index(drop=True), [d.label for d in designs], uncertain, outcome)


def analyse(runs: pd.DataFrame, designs: list[str], uncertain: Uncertainties, outcome: str) -> Robustness:
    """Frequency best, regret and flips from the run table (one row per design, condition, replication)."""
    g = runs.groupby(["design", "condition"], sort=False)
    per = g[outcome].mean().rename("p").to_frame().join(g["total_cost"].mean().rename("cost")).reset_index()
    per["design_index"] = per["design"].map({d: i for i, d in enumerate(designs)})
    per = per.sort_values(["condition", "design_index"], kind="stable").reset_index(drop=True)
    # best in a condition: the highest P; designs tied at it are all best there (at 0% everywhere a
    # tie-break by cost would crown the cheapest design for doing nothing)
    top = per.groupby("condition")["p"].max()
    per["best"] = np.isclose(per["p"], per["condition"].map(top), rtol=0, atol=1e-12)
    per["regret"] = per["condition"].map(top) - per["p"]
    best_names = per[per["best"]].groupby("condition")["design"].agg(" | ".join)
    n_c = len(uncertain.conditions)
    mean_p = per.groupby("design")["p"].mean()
    mean_cost = per.groupby("design")["cost"].mean()
    order = sorted(designs, key=lambda d: (-mean_p[d], mean_cost[d], designs.index(d)))
    winner = order[0]
    rows = []
    for d in designs:
        sub = per[per["design"] == d]
        k = int(sub["best"].sum())
        f, f_lo, f_hi = wilson(k, n_c)
        r_mean, r_lo, r_hi = mean_interval(sub["regret"])
        p_mean, p_lo, p_hi = mean_interval(sub["p"])
        rows.append({"design": d, "conditions": n_c, "replications": uncertain.replications,
                     "mean_p": p_mean, "mean_p_lo": p_lo, "mean_p_hi": p_hi,
                     "best_in": k, "freq_best": f, "freq_best_lo": f_lo, "freq_best_hi": f_hi,
                     "regret_mean": r_mean, "regret_lo": max(0.0, r_lo) if np.isfinite(r_lo) else r_lo,
                     "regret_hi": r_hi, "regret_max": float(sub["regret"].max()),
                     "mean_cost": float(mean_cost[d]), "overall_winner": d == winner})
    summary = pd.DataFrame(rows)
    # flips: conditions where another design has a higher P than the overall winner; clear ones: some
    # design beats it with a paired interval (over the condition's replications) that excludes zero
    flipped = ~per[per["design"] == winner].set_index("condition")["best"].reindex(range(n_c)).fillna(False)
    win_runs = runs[runs["design"] == winner].set_index(["condition", "replication"])[outcome].astype(float)
    clear = np.zeros(n_c, dtype=bool)
    for d in designs:
        if d == winner:
            continue
        other = runs[runs["design"] == d].set_index(["condition", "replication"])[outcome].astype(float)
        for c in range(n_c):
            a, b = win_runs.xs(c, level="condition"), other.xs(c, level="condition")
            common = a.index.intersection(b.index)
            _, lo, hi, n = paired_difference(a.loc[common], b.loc[common])
            clear[c] |= is_clear(lo, hi, n) and lo > 0
    conditions = uncertain.conditions.copy()
    conditions["winner_beaten"] = flipped.to_numpy(dtype=bool)
    conditions["clearly_beaten"] = clear
    conditions["best_designs"] = conditions["condition"].map(best_names)
    result = Robustness(outcome, designs, uncertain, runs, per, summary, winner, int(flipped.sum()),
                        int(clear.sum()), None)
    result.box = flip_box(conditions, list(uncertain.factors), uncertain.integers)
    result.per_condition = per.drop(columns="design_index").merge(conditions, on="condition", how="left")
    result.lines = describe(result)
    return result


def flip_box(conditions: pd.DataFrame, factors: list[str], integers: frozenset[str]) -> dict[str, Any] | None:
    """PRIM box of the conditions where the overall winner is not the best (None when nothing to tell apart).

    Peeling stops at boxes of at least 10% of the conditions; the reported box is the
    one with the most coverage among those at least 80% dense (else the densest).
    """
    y = conditions["winner_beaten"].to_numpy(dtype=bool)
    if y.all() or not y.any():
        return None
    x = conditions[factors].copy()
    for c in factors:
        x[c] = x[c].astype(np.int64 if c in integers else float)
    _, Prim = ema_analysis("--uncertain's flip box")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # EMA Workbench 3.0 calls pandas in ways pandas now deprecates
        prim = Prim(x, y, mass_min=0.1, peel_alpha=0.1)
        box = prim.find_box()
    if box is None:
        return None
    traj = box.peeling_trajectory
    i = _pick(traj, 0.8)
    stats = traj.loc[i]
    limits = _restricted(box.box_lims[i], prim.box_init, x)
    sentence = (describe_box(limits, float(stats["density"]), float(stats["coverage"]),
                             "the overall winner is beaten", set(integers))
                .replace("of runs", "of conditions").replace("all runs where", "all conditions where"))
    return {"coverage": float(stats["coverage"]), "density": float(stats["density"]), "mass": float(stats["mass"]),
            "limits": {k: [lo, hi] for k, (lo, hi) in limits.items()}, "sentence": sentence,
            "base_rate": float(y.mean())}


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f}%"


def describe(r: Robustness) -> list[str]:
    """The report's sentences."""
    u = r.uncertain
    n_c = len(u.conditions)
    ranges = ", ".join(f"{f} {u.conditions[f].min():.3g} to {u.conditions[f].max():.3g}" for f in u.factors)
    lines = [f"Robustness of the ranking on P({r.outcome}): {n_c} conditions ({u.sampler['method']}, seed {u.seed}; "
             f"{ranges}) x {u.replications} replications per design, the same seeds in every design and condition."]
    for row in r.summary.sort_values(["freq_best", "regret_mean"], ascending=[False, True]).itertuples():
        lines.append(
            f"{row.design}: best (or tied) in {row.best_in} of {n_c} conditions ({_pct(row.freq_best)} "
            f"[{100 * row.freq_best_lo:.0f}, {100 * row.freq_best_hi:.0f}]); regret mean "
            f"{100 * row.regret_mean:.0f} points"
            + (f" [{100 * row.regret_lo:.0f}, {100 * row.regret_hi:.0f}]" if np.isfinite(row.regret_lo) else "")
            + f", max {100 * row.regret_max:.0f}; mean P({r.outcome}) over conditions {_pct(row.mean_p)}.")
    lines.append(
        f"Overall winner (highest mean P({r.outcome}) over conditions): {r.winner}. Another design beats it in "
        f"{r.flips} of {n_c} conditions; in {r.clear_flips} clearly (paired 95% interval "
        f"over the {u.replications} replications excludes zero"
        + (f"; with fewer than {MIN_CLEAR_PAIRS} replications none is called clear" if u.replications < MIN_CLEAR_PAIRS
           else "") + ").")
    if r.box is not None:
        lines.append(f"Where the ranking flips (PRIM): {r.box['sentence']}.")
    elif r.flips == 0:
        lines.append("The ranking never flips in these conditions: no box to find.")
    else:
        lines.append("Another design beats the winner in every condition: no box to tell flips apart.")
    if r.flips and u.replications < 30:
        lines.append(f"With {u.replications} replications per condition a flip can be chance; the clear count "
                     "above is the one to trust, or raise replications in the file.")
    return lines


def fig_robustness(r: Robustness) -> Figure:
    """Frequency best (Wilson interval), regret per condition (box and points), P(outcome) per condition."""
    labels = r.designs
    fig = Figure(figsize=(12, 0.42 * len(labels) + 1.8), dpi=100, layout="constrained")
    ax1, ax2, ax3 = fig.subplots(1, 3, sharey=True)
    rng = np.random.default_rng(0)
    summary = r.summary.set_index("design")
    for i, d in enumerate(labels):
        row = summary.loc[d]
        f = float(row["freq_best"])
        ax1.errorbar([f], [i], xerr=[[f - row["freq_best_lo"]], [row["freq_best_hi"] - f]], fmt="o",
                     color=_colour(i), capsize=3, ms=6)
        ax1.annotate(f"{int(row['best_in'])}/{int(row['conditions'])}", (f, i), xytext=(0, 6),
                     textcoords="offset points", ha="center", fontsize=7, color=_colour(i))
        sub = r.per_condition[r.per_condition["design"] == d]
        reg = sub["regret"].to_numpy(dtype=float)
        ax2.boxplot([reg], positions=[i], orientation="horizontal", widths=0.5, showfliers=False,
                    medianprops={"color": _colour(i), "lw": 2}, boxprops={"color": _colour(i)},
                    whiskerprops={"color": _colour(i)}, capprops={"color": _colour(i)})
        ax2.scatter(reg, i + rng.uniform(-0.18, 0.18, reg.size), s=10, color=_colour(i), alpha=0.6, lw=0)
        ax2.scatter([row["regret_mean"]], [i], marker="D", s=30, color="black", zorder=4,
                    label="mean" if i == 0 else None)
        p = sub["p"].to_numpy(dtype=float)
        ax3.scatter(p, i + rng.uniform(-0.18, 0.18, p.size), s=12, color=_colour(i), alpha=0.7, lw=0)
        ax3.scatter([row["mean_p"]], [i], marker="|", s=200, color="black", zorder=4)
    _design_axis(ax1, labels)
    _design_axis(ax2, labels, ticks=False)
    _design_axis(ax3, labels, ticks=False)
    ax1.set_xlim(-0.05, 1.05)
    ax1.set_xlabel("share of conditions where it is best or tied\n(95% Wilson interval)")
    ax1.set_title("How often best")
    ax2.set_xlabel(f"regret: best P({r.outcome}) minus its own,\nper condition")
    ax2.set_title("Regret")
    ax2.legend(fontsize=8, frameon=False, loc="lower right")
    ax3.set_xlim(-0.05, 1.05)
    ax3.set_xlabel(f"P({r.outcome}) per condition\n(bar: mean over conditions)")
    ax3.set_title("Outcome over the conditions")
    for ax in (ax1, ax2, ax3):
        ax.grid(axis="x", color="#eeeeee", lw=0.6)
    fig.suptitle(f"Is the choice robust? {len(r.uncertain.conditions)} conditions x "
                 f"{r.uncertain.replications} replications, winner {r.winner}", fontsize=10)
    return fig


def write_robustness(r: Robustness, folder: str | Path) -> dict[str, Path]:
    """``runs.csv``, ``conditions.csv`` (per design and condition), ``summary.csv``, ``robustness.png``,
    ``report.txt`` and ``robustness.json`` in ``folder``, each written atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    # plain CSVs, each with its provenance JSON beside it (experiments.files.write_csv)
    meta = {"outcome": r.outcome, "designs": r.designs, "uncertain": r.uncertain.source,
            "seed": r.uncertain.seed, **provenance()}
    written = {
        name: write_csv(folder / name, df, meta)[0]
        for name, df in (("runs.csv", r.runs.drop(columns="design_index")),
                         ("conditions.csv", r.per_condition), ("summary.csv", r.summary))
    }
    png = render_png(fig_robustness(r))
    written["robustness.png"] = atomic_write(folder / "robustness.png", lambda p: p.write_bytes(png))
    written["report.txt"] = atomic_write_text(folder / "report.txt", "\n".join(r.lines) + "\n")
    u = r.uncertain
    written["robustness.json"] = atomic_write_json(folder / "robustness.json", _json({
        "outcome": r.outcome, "designs": r.designs, "winner": r.winner, "flips": r.flips,
        "clear_flips": r.clear_flips, "box": r.box, "uncertain": u.source, "sampler": u.sampler,
        "replications": u.replications, "seed": u.seed, "seeds": u.seeds, "common_random_numbers": True,
        "summary": r.summary.to_dict(orient="records"), "lines": r.lines, "provenance": provenance()}))
    return written


def _json(x: Any) -> Any:
    return json_safe(x)


def progress_bar(total: int, quiet: bool) -> Any:
    """A tqdm bar on stderr (None when quiet)."""
    if quiet:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc="robustness", unit="run", file=sys.stderr)


def total_runs(designs: Sequence[Any], uncertain: Uncertainties) -> int:
    """Runs a robustness analysis makes."""
    return len(designs) * len(uncertain.conditions) * uncertain.replications


__all__ = ["CONDITION_SAMPLERS", "Robustness", "UncertainFile", "Uncertainties", "analyse", "fig_robustness",
           "flip_box", "load_uncertainties", "run_robustness", "total_runs", "write_robustness"]


