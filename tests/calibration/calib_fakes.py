"""A tiny fake model with the Simulator interface: fast and analytically known."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calibration.bass import monthly_bass_share


@dataclass(frozen=True)
class Spec:
    name: str
    default: float
    low: float
    high: float
    integer: bool = False
    unit: str = ""
    meaning: str = ""


SPECS = {
    "external_influence": Spec("external_influence", 0.01, 0.0, 1.0),
    "imitation": Spec("imitation", 0.05, 0.0, 3.0),
    "government_involvement": Spec("government_involvement", 0.8, 0.0, 1.0),
    "horizon_months": Spec("horizon_months", 60, 12, 600, integer=True),
}


@dataclass
class FakeSimulator:
    """Adoption: a binomial Bass process of ``agents`` agents; ``scaled`` needs government."""

    agents: int = 400
    scenario_name: str = "fake"
    delay: float = 0.0

    def parameter_specs(self) -> Mapping[str, Spec]:
        return SPECS

    def summary_fields(self) -> Mapping[str, str]:
        return {
            "final_adoption": "share adopted at the end",
            "scaled": "0/1",
            "functioning_month": "month or None",
        }

    def series_fields(self) -> Mapping[str, str]:
        return {"adoption_share": "share adopted"}

    def yes_no_outcomes(self) -> frozenset[str]:
        return frozenset({"scaled"})

    def horizon(self, parameters: Mapping[str, Any]) -> int:
        return int(parameters.get("horizon_months", 60))

    def run(self, parameters: Mapping[str, Any], seed: int, *, series: bool):
        if self.delay:
            time.sleep(self.delay)
        p = {k: s.default for k, s in SPECS.items()} | dict(parameters)
        rng = np.random.default_rng(seed)
        H = int(p["horizon_months"])
        adopted = 0
        shares = [0.0]
        for _ in range(H):
            hazard = p["external_influence"] + p["imitation"] * adopted / self.agents
            adopted += rng.binomial(self.agents - adopted, 1 - np.exp(-hazard))
            shares.append(adopted / self.agents)
        scaled = float(rng.random() < 0.8 * p["government_involvement"])
        functioning = None if rng.random() < 0.1 else int(12 + 20 * rng.random())
        summary = {"final_adoption": shares[-1], "scaled": scaled, "functioning_month": functioning}
        df = pd.DataFrame({"adoption_share": shares}, index=pd.RangeIndex(H + 1, name="month"))
        return summary, (df if series else None)


def base_values_default() -> dict[str, float]:
    return {k: s.default for k, s in SPECS.items()}


FAKE_TARGETS = """
scenario = "fake"
replications = 2
parameters = ["external_influence", "imitation"]
[priors]
external_influence = {low = 0.001, high = 0.05}
imitation = {low = 0.0, high = 0.3}
[[targets]]
name = "series"
kind = "series"
file = "obs.csv"
outcome = "adoption_share"
[[targets]]
name = "P3"
outcome = "scaled"
versus = {government_involvement = 0.0}
ratio = 2
[[targets]]
name = "P1"
outcome = "functioning_month"
statistic = "median"
low = 12
high = 36
"""


def write_fake_targets(folder, p: float = 0.01, q: float = 0.1, seed: int = 5):
    """A targets file on the fake model with a series simulated from known p, q."""
    from pathlib import Path

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _, df = FakeSimulator(agents=2000).run({"external_influence": p, "imitation": q}, seed,
                                           series=True)
    obs = df.reset_index().rename(columns={"adoption_share": "share"}).iloc[::6]
    obs[["month", "share"]].to_csv(folder / "obs.csv", index=False)
    (folder / "fake.toml").write_text(FAKE_TARGETS, encoding="utf-8")
    return folder / "fake.toml"


def expected_share(p: float, q: float, months: int) -> np.ndarray:
    return monthly_bass_share(months, p, q)
