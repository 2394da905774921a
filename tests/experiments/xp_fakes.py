"""Stand-ins for ``model.runner.run_scenario`` used by the experiment tests.

They take a real (validated) scenario and a seed, like the model, but compute
their outcomes from a few parameters with a known structure, in microseconds:
so the tests can check analyses against a known answer, and control timing
(``LASIM_TOY_SLEEP`` seconds per run) and failures.
"""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import numpy as np
import pandas as pd


def toy_run(scenario, seed, *, series=False):
    """Scales when facilitation is good and the funding gap short; noise from the seed."""
    p = scenario.parameters
    rng = np.random.default_rng(int(seed))
    delay = float(os.environ.get("LASIM_TOY_SLEEP", "0"))
    if delay:
        time.sleep(delay)
    noise = rng.normal(0.0, 0.05)
    peak = (0.6 * p.facilitation_quality + 0.3 * p.government_involvement
            - 0.01 * p.funding_gap_months + 0.05 * p.documentation * p.facilitation_quality
            + noise)
    scaled = p.facilitation_quality >= 0.6 and p.funding_gap_months <= 8 and rng.random() < 0.95
    summary = {
        "scaled": bool(scaled),
        "sustained": bool(peak > 0.5),
        "peak_adoption": float(peak),
        "scale_month": float(24 + rng.integers(0, 12)) if scaled else float("nan"),
    }
    frame = None
    if series:
        months = np.arange(1, 13)
        frame = pd.DataFrame({"month": months, "adoption_all": peak * months / 12})
    return SimpleNamespace(summary=summary, series=frame, events=[])


def flaky_run(scenario, seed, *, series=False):
    """Like :func:`toy_run`, but raises whenever facilitation_quality >= 0.8."""
    if scenario.parameters.facilitation_quality >= 0.8:
        raise RuntimeError("injected failure: facilitation_quality too high for this test")
    return toy_run(scenario, seed, series=series)


def dying_run(scenario, seed, *, series=False):
    """Like :func:`toy_run`, but kills its own process whenever facilitation_quality >= 0.8.

    ``os._exit`` skips every handler, as the out-of-memory killer or a segfault would.
    """
    if scenario.parameters.facilitation_quality >= 0.8:
        os._exit(3)
    return toy_run(scenario, seed, series=series)
