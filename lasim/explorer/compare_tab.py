"""Comparison mode: two settings of one scenario side by side, each run N times.

Both settings run with the same replication seeds (common random numbers) and
are summarised with the same code and figures as ``lasim compare``
(:mod:`experiments.compare`, :mod:`experiments.report`), so the app and the
report never disagree about what a difference means.
"""

from __future__ import annotations

import html
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import solara

from experiments.compare import make_designs, run_comparison
from experiments.report import FIGURE_FUNCTIONS, figure_data
from model.errors import LasimInputError
from model.scenario import Scenario, load_scenario

from .figures import svg_bytes
from .server import SCENARIO_ENV
from .session import CONTROL_NAMES, cached_inert_controls, controls, label_of, scenario_choices
from .widgets import ControlSlider, Figure, PlainText, Text

#: What setting B starts as, so pressing Run at once shows a contrast worth discussing.
B_START = {"facilitation_quality": 0.4}
#: Fewer runs per setting give intervals too wide (or, when all pairs agree, falsely narrow)
#: to call any difference clear; the slider starts here.
MIN_REPLICATIONS = 10
MAX_REPLICATIONS = 100


def setting_name(scenario: Scenario, values: dict[str, Any]) -> str:
    """Short name of a setting: the parameters it changes from the scenario, or 'as in <scenario>'."""
    base = scenario.parameters
    changed = [f"{k}={v:g}" for k, v in values.items() if getattr(base, k) != v]
    return ", ".join(changed) if changed else f"as in {scenario.name}"


@dataclass(frozen=True)
class CompareOutcome:
    """What the comparison shows: the verdict, the outcome table and the figures (PNG)."""

    verdict: list[str]
    table: list[dict[str, Any]]
    figures: dict[str, bytes]
    replications: int
    #: What was run (scenario label, A, B, replications, seed): shown only while the inputs still match.
    inputs: tuple = ()


def compare_settings(
    scenario: Scenario,
    a: dict[str, Any],
    b: dict[str, Any],
    replications: int,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> CompareOutcome:
    """Run two parameter settings of ``scenario`` ``replications`` times each (same seeds).

    Raises
    ------
    model.errors.LasimInputError
        For a value out of range or fewer than :data:`MIN_REPLICATIONS` replications.
    """
    if not MIN_REPLICATIONS <= int(replications) <= MAX_REPLICATIONS:
        raise LasimInputError(
            f"replications = {replications}: must be between {MIN_REPLICATIONS} and {MAX_REPLICATIONS} per "
            f"setting (fewer cannot tell a clear difference)")
    sa, sb = scenario.with_parameters(**a), scenario.with_parameters(**b)
    sa = sa.model_copy(update={"name": setting_name(scenario, a)})
    sb = sb.model_copy(update={"name": setting_name(scenario, b)})
    comparison = run_comparison(make_designs([sa, sb]), replications, seed, progress=progress)
    data = figure_data(comparison.runs, comparison.series)
    figures = {name: _svg(FIGURE_FUNCTIONS[name](data))
               for name in ("probabilities", "adoption_by_level", "months_to_scale", "cost")}
    return CompareOutcome(data["verdict"], data["table"], figures, replications)


_VERDICT_PARTS = (("scaled", "scaling", r"Difference in scaling: [^.]*?, (clear|not clear)"),
                  ("sustained", "sustained adoption", r"Sustained adoption: [^.]*?\], [^,]*?\], (clear|not clear)"))


def interval_notes(table: list[dict[str, Any]], verdict: list[str]) -> list[str]:
    """A caution wherever the verdict calls a difference clear while the two shares' intervals overlap.

    The verdict's paired interval is a t interval of the mean difference; with few runs and yes/no
    outcomes it can exclude zero on a handful of discordant pairs (4 of 10 runs
    scaling against 0 of 10 reads "clear", where an exact paired test gives p = 0.125).
    The page then says the difference is tentative, so what it shows never
    contradicts the intervals next to it.
    """

    if len(table) != 2:
        return []
    a, b = table
    notes = []
    text = " ".join(verdict)
    for col, words, pattern in _VERDICT_PARTS:
        m = re.search(pattern, text)
        overlap = a[f"p_{col}_lo"] <= b[f"p_{col}_hi"] and b[f"p_{col}_lo"] <= a[f"p_{col}_hi"]
        if m and m.group(1) == "clear" and overlap:
            notes.append(
                f"Tentative: the two intervals for {words} overlap, so with {a['runs']} runs per setting "
                "this difference is not yet certain; run more replications before relying on it.")
    return notes


def _svg(fig: Any) -> bytes:
    """A report figure as SVG (sharp on a projector), then freed."""
    import matplotlib.pyplot as plt

    try:
        return svg_bytes(fig)
    finally:
        plt.close(fig)


def _table_html(rows: list[dict[str, Any]]) -> str:
    def share(r: dict[str, Any], o: str) -> str:
        return f"{100 * r[f'p_{o}']:.0f}% [{100 * r[f'p_{o}_lo']:.0f}, {100 * r[f'p_{o}_hi']:.0f}]"

    head = ["setting", "runs", "functions", "scales", "sustains", "median month of scale", "mean cost (k USD)"]
    out = ["<table class='lasim-compare-table'><tr>", *[f"<th>{h}</th>" for h in head], "</tr>"]
    for r in rows:
        med = r["scale_month_median"]
        cells = [r["design"], r["runs"], share(r, "functioning"), share(r, "scaled"), share(r, "sustained"),
                 "never" if med != med else f"{med:.0f}", f"{r['total_cost_mean']:.0f}"]
        out += ["<tr>", *[f"<td>{html.escape(str(c))}</td>" for c in cells], "</tr>"]
    out.append("</table>")
    return "".join(out)


@solara.component
def SettingColumn(title: str, values: solara.Reactive[dict[str, Any]], horizon: int,
                  inert: dict[str, str]) -> None:
    """The sliders of one setting."""
    with solara.Card(title, classes=[f"lasim-setting-{title[-1].lower()}"]):
        for c in controls(horizon):
            ControlSlider(c, values.value[c.name],
                          lambda v, name=c.name: values.set({**values.value, name: v}),
                          reason=inert.get(c.name, ""))


@solara.component
def CompareTab() -> None:
    """Two settings side by side, N replications each, outcome distributions and a verdict."""
    choices = solara.use_memo(scenario_choices, [])
    label = solara.use_reactive(label_of(os.environ.get(SCENARIO_ENV), choices))
    scenario = solara.use_memo(lambda: load_scenario(choices[label.value]), [label.value])
    start = {n: getattr(scenario.parameters, n) for n in CONTROL_NAMES}
    a = solara.use_reactive(start)
    b = solara.use_reactive({**start, **B_START})
    replications = solara.use_reactive(MIN_REPLICATIONS)
    seed = solara.use_reactive(0)
    done = solara.use_reactive(0.0)
    outcome = solara.use_reactive(None)
    error = solara.use_reactive("")

    def choose(new: str) -> None:
        label.set(new)
        sc = load_scenario(choices[new])
        values = {n: getattr(sc.parameters, n) for n in CONTROL_NAMES}
        a.set(values)
        b.set({**values, **B_START})
        outcome.set(None)

    def inputs() -> tuple:
        return (label.value, tuple(sorted(a.value.items())), tuple(sorted(b.value.items())),
                replications.value, seed.value)

    def run() -> None:
        error.set("")
        done.set(0.0)
        asked = inputs()
        try:
            result = compare_settings(
                scenario, a.value, b.value, replications.value, seed.value,
                progress=lambda k, n: done.set(100.0 * k / n),
            )
            outcome.set(CompareOutcome(result.verdict, result.table, result.figures, result.replications, asked))
        except Exception as exc:  # noqa: BLE001 -- shown to the trainer instead of a dead page
            error.set(f"{exc.__class__.__name__}: {exc}")

    task = solara.lab.use_task(run, dependencies=None, prefer_threaded=True)
    horizon = scenario.parameters.horizon_months

    Text("Run two settings of the same scenario many times with the same seeds, and compare how "
         "often each functions, scales and sustains adoption. Each run is a possible history; "
         "the spread is what a programme designer must plan for.")
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select("Scenario", values=list(choices), value=label.value, on_value=choose)
        with solara.Div(style={"min-width": "280px"}, classes=["lasim-replications"]):
            solara.Div(children=[f"Replications per setting: {replications.value}"], classes=["lasim-label"])
            solara.SliderInt("", value=replications, min=MIN_REPLICATIONS, max=MAX_REPLICATIONS)
        solara.InputInt("Root seed (as lasim compare --seed)", value=seed)
        solara.Button("Run comparison", color="primary", on_click=lambda: task(),
                      disabled=task.pending, classes=["lasim-run-compare"])
    if task.pending:
        solara.ProgressLinear(done.value or True)
    if error.value:
        solara.Error(error.value)
    inert = cached_inert_controls(scenario)
    with solara.Columns([1, 1, 3]):
        SettingColumn("Setting A", a, horizon, inert)
        SettingColumn("Setting B", b, horizon, inert)
        with solara.Column():
            result: CompareOutcome | None = outcome.value
            if result is not None and result.inputs != inputs():
                # a verdict about other settings must not stay next to the sliders that changed
                Text("*The settings changed since the last comparison: press Run comparison again.*",
                     classes=["lasim-stale"])
                return
            if result is None:
                Text("*Press Run comparison: the verdict, the outcome table and the distributions "
                     "appear here.*")
                return
            with solara.Card("Verdict", classes=["lasim-verdict"]):
                for line in result.verdict:
                    PlainText(line, classes=["lasim-verdict-line"])
                for note in interval_notes(result.table, result.verdict):
                    PlainText(note, classes=["lasim-caption", "lasim-verdict-note"])
                solara.HTML(tag="div", unsafe_innerHTML=_table_html(result.table))
            with solara.Columns([1, 1]):
                for name in ("probabilities", "months_to_scale"):
                    Figure(result.figures[name], f"compare-{name}")
            for name in ("adoption_by_level", "cost"):
                Figure(result.figures[name], f"compare-{name}")
