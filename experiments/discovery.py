"""Scenario discovery: the regions of parameter space where an outcome happens.

PRIM (Friedman and Fisher's patient rule induction, as EMA Workbench implements
it for scenario discovery) peels the factor space down to boxes in which most
runs have the outcome (high *density*) while keeping most of the runs that have
it (high *coverage*). CART gives a second, tree-shaped answer to compare with.
Each box becomes a plain sentence a programme designer can act on.

EMA Workbench is an optional extra (``lasim[discovery]``) and slow to import
(about 5 s), so it is imported only inside the functions that use it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from model.errors import LasimInputError, did_you_mean

from . import plots
from .files import atomic_write_json, atomic_write_text, provenance, write_csv
from .store import load_results, outcome_columns

# How the sentences say that an outcome happened.
VERBS = {
    "scaled": "scales",
    "sustained": "is sustained",
    "functioning": "the alliance functions",
    "institutionalised": "policy is institutionalised",
}


def ema_analysis(who: str) -> tuple[Any, Any]:
    """EMA Workbench's ``CART`` and ``Prim``, imported quietly, or a one-line error naming ``who`` needs them.

    Imported on use: the workbench is an optional extra, and its import prints
    warnings and log lines that a command's output should not carry.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("EMA").setLevel(logging.WARNING)
        try:
            from ema_workbench.analysis import CART, Prim
        except ImportError:
            raise LasimInputError(f"{who} needs EMA Workbench: pip install 'lasim[discovery]'") from None
    return CART, Prim


@dataclass
class Box:
    """One box: its statistics, its limits on the restricted factors and its sentence."""

    method: str
    number: int
    coverage: float
    density: float
    mass: float
    limits: dict[str, tuple[float | None, float | None]]
    sentence: str


@dataclass
class DiscoveryResult:
    outcome: str
    runs: int
    base_rate: float
    boxes: list[Box] = field(default_factory=list)
    cart_boxes: list[Box] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    note: str = ""
    cart_note: str = ""

    def text(self) -> str:
        verb = _verb(self.outcome)
        lines = [f"Overall it {verb} in {self.base_rate:.0%} of {self.runs} runs."]
        if self.note:
            lines.append(self.note)
        for b in self.boxes:
            lines.append(f"PRIM box {b.number}: {b.sentence}")
        for b in self.cart_boxes:
            lines.append(f"CART leaf {b.number}: {b.sentence}")
        if self.cart_note:
            lines.append(self.cart_note)
        return "\n".join(lines)


def _verb(outcome: str, above: float | None = None) -> str:
    if above is not None:
        return f"{outcome} reaches {above:g}"
    return VERBS.get(outcome, f"{outcome} is true")


def _num(v: float, integer: bool) -> str:
    return f"{round(v):d}" if integer else f"{v:.3g}"


def limit_texts(limits: dict[str, tuple[float | None, float | None]],
                integers: set[str]) -> dict[str, tuple[str, str]]:
    """How the sentence and the limits figure print each factor's lower and upper limit ("" if open)."""
    return {name: ("" if lo is None else _num(lo, name in integers), "" if hi is None else _num(hi, name in integers))
            for name, (lo, hi) in limits.items()}


def describe(limits: dict[str, tuple[float | None, float | None]], density: float,
             coverage: float, verb: str, integers: set[str]) -> str:
    """``"scales in 83% of runs when a >= 0.6 and b <= 8 (covers 71% of such runs)"``."""
    parts = []
    for name, (lo_text, hi_text) in limit_texts(limits, integers).items():
        lo, hi = limits[name]
        if lo is not None and lo == hi:
            parts.append(f"{name} = {lo_text}")
        elif lo is not None and hi is not None:
            parts.append(f"{name} between {lo_text} and {hi_text}")
        elif lo is not None:
            parts.append(f"{name} >= {lo_text}")
        elif hi is not None:
            parts.append(f"{name} <= {hi_text}")
    if not parts:
        cond = "anywhere in the explored space"
    elif len(parts) == 1:
        cond = "when " + parts[0]
    else:
        cond = "when " + ", ".join(parts[:-1]) + " and " + parts[-1]
    return (f"{verb} in {density:.0%} of runs {cond} "
            f"(this box holds {coverage:.0%} of all runs where it happens)")


def limits_figure(box: Box, box_init: pd.DataFrame, integers: set[str], outcome: str, runs: int) -> Any:
    """The figure of a box's limits, drawn from the same limits as its sentence."""
    ranges = {name: (float(box_init[name].iloc[0]), float(box_init[name].iloc[1])) for name in box.limits}
    title = (f"{box.method.upper()} box {box.number} ({outcome}): density {box.density:.0%}, "
             f"coverage {box.coverage:.0%}, {box.mass:.0%} of {runs} runs")
    labels = {name: (f"= {lo}", "") if lo and lo == hi else (f">= {lo}" if lo else "", f"<= {hi}" if hi else "")
              for name, (lo, hi) in limit_texts(box.limits, integers).items()}
    return plots.plot_box_limits(box.limits, ranges, labels, title)


def _restricted(box_lim: pd.DataFrame, box_init: pd.DataFrame,
                x: pd.DataFrame) -> dict[str, tuple[Any, Any]]:
    """Limits of the factors a box restricts: a side equal to the full range is open.

    A limit is snapped to the nearest value actually run inside it: PRIM and CART
    may cut half-way between two grid levels (0.55 between 0.5 and 0.6), and
    ">= 0.6" is what a reader can use.
    """
    out = {}
    for name in box_init.columns:
        lo, hi = box_lim[name].iloc[0], box_lim[name].iloc[1]
        lo0, hi0 = box_init[name].iloc[0], box_init[name].iloc[1]
        inside = x[name][(x[name] >= lo) & (x[name] <= hi)]
        lo_r = float(inside.min()) if lo > lo0 and not inside.empty else None
        hi_r = float(inside.max()) if hi < hi0 and not inside.empty else None
        if lo_r is not None or hi_r is not None:
            out[name] = (lo_r, hi_r)
    return out


def _pick(trajectory: pd.DataFrame, min_density: float) -> int:
    """The trajectory entry to report: most coverage among dense-enough boxes.

    If no box reaches ``min_density``, the densest one (ties: most coverage).
    """
    dense = trajectory[trajectory["density"] >= min_density]
    if not dense.empty:
        return int(dense.sort_values(["coverage", "density"]).index[-1])
    return int(trajectory.sort_values(["density", "coverage"]).index[-1])


def discover(out: str | Path, outcome: str = "scaled", *, above: float | None = None,
             min_density: float = 0.8, max_boxes: int = 3, mass_min: float = 0.05,
             cart: bool = True, plot: bool = True) -> DiscoveryResult:
    """Find the boxes of factor space where ``outcome`` happens, with PRIM (and CART).

    Parameters
    ----------
    out : path
        An experiment directory (``lasim sweep`` output).
    outcome : str
        A yes/no outcome (``scaled``, ``sustained``, ...), or any numeric one
        together with ``above``.
    above : float, optional
        Count a run as a case of interest when ``outcome >= above``.
    min_density : float
        Report, on each peeling trajectory, the box with most coverage among those
        at least this dense.
    max_boxes : int
        PRIM boxes to look for (each on the runs the previous ones left).
    mass_min : float
        Smallest share of runs a box (or CART leaf) may hold.
    """
    df = load_results(out)
    manifest = df.attrs["manifest"]
    factors = list(manifest["factors"])
    known = outcome_columns(df, manifest)
    if outcome not in known:
        raise LasimInputError(f"--outcome = {outcome!r}: not in this experiment{did_you_mean(outcome, known)}; "
                              f"allowed: {', '.join(known)}")
    if df.empty:
        raise LasimInputError(f"{out}: has no finished runs yet; run lasim sweep first")
    col = df[outcome]
    if above is None:
        if not (pd.api.types.is_bool_dtype(col) or set(col.dropna().unique()) <= {0, 1}):
            raise LasimInputError(f"--outcome = {outcome!r}: is not yes/no; give --above VALUE "
                                  "to count runs where it reaches VALUE")
        y = col.fillna(False).astype(bool).to_numpy()
    else:
        y = (col.astype(float) >= above).fillna(False).to_numpy()
    verb = _verb(outcome, above)
    x = df[factors].copy()
    integers = {c for c in factors if pd.api.types.is_integer_dtype(x[c])}
    # PRIM treats int64 and float64 columns; make sure nothing else sneaks in.
    for c in factors:
        x[c] = x[c].astype(np.int64 if c in integers else float)
    result = DiscoveryResult(outcome if above is None else f"{outcome}>={above:g}",
                             len(df), float(y.mean()))
    if y.all() or not y.any():
        result.note = (f"Every run {'has' if y.all() else 'lacks'} this outcome: there is no "
                       "region to tell apart.")
        return result

    import matplotlib.pyplot as plt

    CART, Prim = ema_analysis("lasim discover")

    folder = Path(out) / "discovery" / result.outcome.replace(">=", "_ge_")
    figures: list[tuple[str, Any]] = []
    tables = []
    with warnings.catch_warnings():
        # EMA Workbench 3.0 uses a pandas keyword that pandas now deprecates.
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        prim = Prim(x, y, mass_min=mass_min, peel_alpha=0.05)
    box_init = prim.box_init
    for number in range(1, max_boxes + 1):
        box = prim.find_box()
        if box is None:
            break
        traj = box.peeling_trajectory
        i = _pick(traj, min_density)
        box.select(i)
        stats = traj.loc[i]
        if stats["density"] <= result.base_rate:
            break  # no better than picking runs at random: not a region worth reporting
        limits = _restricted(box.box_lims[i], box_init, x)
        result.boxes.append(Box("prim", number, float(stats["coverage"]),
                                float(stats["density"]), float(stats["mass"]), limits,
                                describe(limits, float(stats["density"]),
                                         float(stats["coverage"]), verb, integers)))
        t = traj.copy()
        t.insert(0, "box", number)
        tables.append(t)
        if plot:
            fig = box.show_tradeoff(annotated=True)
            fig.axes[0].scatter([stats["coverage"]], [stats["density"]], s=120,
                                facecolors="none", edgecolors="red", label="reported box")
            fig.axes[0].set_title(f"PRIM box {number}: peeling trajectory "
                                  f"({result.outcome})", fontsize=9)
            figures.append((f"prim_tradeoff_box{number}.png", fig))
            if limits:
                # drawn from the box just described, not EMA's inspect(): that shows PRIM's raw cut
                # (0.7 half-way between grid levels) where the sentence gives the level run (0.8)
                figures.append((f"prim_limits_box{number}.png",
                                limits_figure(result.boxes[-1], box_init, integers, result.outcome, len(df))))
    if cart:
        tree = CART(x, y, mass_min=mass_min)
        tree.build_tree()
        leaves = [(b, s) for b, s in zip(tree.boxes, tree.stats, strict=True)
                  if s["density"] >= min_density]
        leaves.sort(key=lambda bs: -bs[1]["coverage"])
        if not leaves:
            best = max(s["density"] for s in tree.stats)
            result.cart_note = (f"CART: no leaf reaches density {min_density:.0%} "
                                f"(densest leaf: {best:.0%}).")
        for k, (b, s) in enumerate(leaves[:max_boxes], start=1):
            limits = _restricted(b, box_init, x)
            result.cart_boxes.append(Box("cart", k, float(s["coverage"]), float(s["density"]),
                                         float(s["mass"]), limits,
                                         describe(limits, float(s["density"]),
                                                  float(s["coverage"]), verb, integers)))
    if plot:
        result.files = _write(folder, result, tables, figures, manifest)
    for _, fig in figures:
        plt.close(fig)
    return result


def _boxes_frame(boxes: list[Box]) -> pd.DataFrame:
    rows = []
    for b in boxes:
        base = {"method": b.method, "box": b.number, "coverage": b.coverage,
                "density": b.density, "mass": b.mass}
        if not b.limits:
            rows.append(base | {"factor": None, "min": None, "max": None})
        for name, (lo, hi) in b.limits.items():
            rows.append(base | {"factor": name, "min": lo, "max": hi})
    return pd.DataFrame(rows)


def _write(folder: Path, result: DiscoveryResult, tables: list[pd.DataFrame],
           figures: list[tuple[str, Any]], manifest: dict[str, Any]) -> list[Path]:
    prov = provenance()
    meta = {"experiment": manifest.get("name"), "scenario": manifest.get("scenario"),
            "root_seed": manifest.get("runs", {}).get("root_seed"), **prov}
    files = [
        *write_csv(folder / "boxes.csv", _boxes_frame(result.boxes + result.cart_boxes), meta),
        atomic_write_text(folder / "summary.txt", result.text() + "\n"),
        atomic_write_json(folder / "discovery.json", {
            **meta, "outcome": result.outcome, "runs": result.runs,
            "base_rate": result.base_rate,
            "boxes": [b.__dict__ for b in result.boxes],
            "cart_boxes": [b.__dict__ for b in result.cart_boxes],
        }),
    ]
    if tables:
        files += write_csv(folder / "prim_trajectories.csv", pd.concat(tables, ignore_index=True), meta)
    for name, fig in figures:
        files.append(plots.save_figure(fig, folder / name, meta))
    return files
