"""Experiments on the lasim model: sweeps, sensitivity analysis and scenario discovery.

The layer is split the way EMA Workbench splits it, so each part can change alone:

- ``spec``: what to run (an :class:`~experiments.spec.ExperimentSpec` read from TOML,
  its samplers and the per-run seeds);
- ``executors``: where to run it (serial, local processes, Dask);
- ``store``: where results go (an output directory that resumes);
- ``sweep``: the loop tying the three together;
- ``sensitivity`` and ``discovery``: what to make of the results.

``experiments`` imports ``model``; ``model`` never imports ``experiments``.
"""

from __future__ import annotations

from .spec import ExperimentSpec, load_spec
from .store import load_results

__all__ = ["ExperimentSpec", "load_results", "load_spec"]
