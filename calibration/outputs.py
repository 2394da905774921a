"""Everything ``lasim calibrate`` writes after the sampling: tables, plots, check, ensemble."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from experiments.files import atomic_write, atomic_write_json, provenance

from .abc import generation_table, load_history, priors_of, read_config
from .posterior import (
    plot_epsilon,
    plot_marginals,
    plot_pairs,
    plot_predictive,
    posterior_frame,
    posterior_summary,
    predictive_check,
    resample,
    write_ensemble,
)
from .simulator import Simulator
from .targets import TargetSet


def _write_csv(path: Path, df: pd.DataFrame) -> Path:
    return atomic_write(path, lambda p: df.to_csv(p, index=False))


def write_outputs(
    out: str | Path,
    targets: TargetSet,
    simulator: Simulator,
    *,
    draws: int = 40,
    ensemble_size: int | None = None,
    workers: int = 1,
    truth: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Write the posterior table, plots, predictive check and ensemble of a calibration.

    Parameters
    ----------
    out : path
        The calibration directory (holds ``calibration.db``).
    targets : TargetSet
        The targets it was calibrated on.
    simulator : Simulator
        The model (for the predictive check).
    draws : int
        Posterior draws simulated for the predictive check.
    ensemble_size : int, optional
        Members of ``posterior_ensemble.toml``; default: the population size.
    workers : int
        Processes for the predictive check.
    truth : mapping, optional
        Known true parameter values (recovery studies), drawn on the marginals.

    Returns
    -------
    dict
        The ``results`` section added to ``calibration.json``.
    """
    out = Path(out)
    history = load_history(out)
    meta = read_config(out)
    config = meta["config"]
    seed = int(config["seed"])
    priors = priors_of(meta)
    specs = simulator.parameter_specs()
    post = posterior_frame(history)
    summary = posterior_summary(post, priors)
    gens = pd.DataFrame(generation_table(history))
    _write_csv(out / "posterior.csv", post)
    _write_csv(out / "posterior_summary.csv", summary)
    _write_csv(out / "generations.csv", gens)
    plot_marginals(post, priors, out / "marginals.png", truth=truth)
    plot_pairs(post, priors, out / "pairs.png")
    plot_epsilon(gens, out / "epsilon.png")

    # Seeds for the checks are offset from the calibration's so that the
    # predictive runs are fresh replications, not the ones ABC selected on.
    sample = resample(post, int(draws), seed + 1)
    pred = predictive_check(targets, simulator, sample, seed=seed + 2, workers=workers)
    flat = pred[[c for c in pred.columns if not isinstance(pred[c].iloc[0], np.ndarray)]]
    _write_csv(out / "predictive.csv", flat)
    plot_predictive(targets, pred, out / "predictive.png")

    n_members = int(ensemble_size or config["population"])
    members = resample(post, n_members, seed + 3)[[p.name for p in priors]]
    prov = provenance()
    write_ensemble(
        out / "posterior_ensemble.toml",
        config["scenario"],
        members,
        description=(
            f"{n_members} parameter sets drawn from the ABC-SMC posterior (generation "
            f"{int(history.max_t)}) of {Path(config['targets_file']).name}"
        ),
        provenance={
            **prov,
            "calibration": str(out.resolve()),
            "targets_file": config["targets_file"],
            "seed": seed,
        },
        integer={p.name: bool(getattr(specs.get(p.name), "integer", False)) for p in priors},
    )
    holds = {
        t.name: float(pred[f"{t.name}:holds"].mean())
        for t in targets.targets
        if f"{t.name}:holds" in pred
    }
    rmse = {
        t.name: float(pred[f"{t.name}:d"].median()) for t in targets.targets if t.kind == "series"
    }
    results = {
        "generations": gens.to_dict(orient="records"),
        "posterior": summary.to_dict(orient="records"),
        "predictive": {
            "draws": int(draws),
            "share_holding": holds,
            "median_rmse": rmse,
            "seed": seed + 2,
        },
        "files": sorted(p.name for p in out.iterdir() if not p.name.startswith(".")),
    }
    meta.update({"results": results, "provenance": prov})
    atomic_write_json(out / "calibration.json", meta)
    return results
