"""ABC-SMC calibration with pyabc; its SQLite history is the store.

A calibration lives in one output directory::

    DIR/calibration.db     pyabc's history (every generation's particles, weights,
                           distances and summary statistics): inspect it with
                           ``pyabc.History("sqlite:///DIR/calibration.db")``
    DIR/calibration.json   what was asked (targets, parameters, priors, seed,
                           population) and provenance; a re-run must match it

Re-running the same command continues from the last finished generation of
the database; asking for more ``--generations`` extends a finished run. A
different calibration pointed at the same directory is refused.

Reproducibility: pyabc's own samplers re-seed every worker from the operating
system, so :class:`SeededMulticoreSampler` replaces the default multicore
sampler. Particle slot ``i`` of generation ``t`` draws proposals from its own
seed ``(seed, t, i)`` until one is accepted, and the slots are shared out over
the worker processes, so a calibration is the same whatever the number of
workers and the timing of the processes, and a generation interrupted half-way
is re-done identically. Model runs are seeded from the parameter values
(:func:`calibration.evaluate.replication_seeds`), so each simulation is
reproducible on every sampler, including pyabc's Dask sampler (``--scheduler``),
whose proposals are not (pyabc re-seeds Dask tasks from the OS).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pyabc.sampler import Sampler
from pyabc.sampler.util import get_mp_context

from experiments.files import atomic_write_json, provenance
from model.errors import LasimInputError

from .evaluate import TargetDistance, TargetModel, observed_statistics
from .priors import UniformPrior, build_priors, pyabc_distribution
from .simulator import ModelSimulator, Simulator
from .targets import TargetSet

DB_NAME = "calibration.db"
META_NAME = "calibration.json"

ProgressFn = Callable[[dict[str, Any]], None]


def _seed_from(*words: int) -> int:
    return int(
        np.random.SeedSequence([int(w) & 0xFFFFFFFF for w in words]).generate_state(
            1, dtype=np.uint32
        )[0]
    )


def _seed_everything(seed: int) -> None:
    # pyabc draws proposals from numpy's global generator and scipy.stats (which
    # uses it), and a little from ``random``.
    np.random.seed(seed)
    random.seed(seed)


def _work(
    simulate_one: Callable,
    slots: Sequence[int],
    root: int,
    t: int,
    budget: float,
    sample_factory: Any,
    all_accepted: bool,
) -> list[tuple[int, Any, int]]:
    """Fill particle slots: slot ``i`` draws from its own seed until one particle is accepted."""
    out = []
    for i in slots:
        _seed_everything(_seed_from(root, t + 2, int(all_accepted), i))
        sample = sample_factory()
        n_eval = 0
        while n_eval < budget:
            particle = simulate_one()
            sample.append(particle)
            n_eval += 1
            if all_accepted or particle.accepted:
                break
        out.append((i, sample, n_eval))
    return out


def _work_process(queue: Any, *args: Any) -> None:
    try:
        queue.put(_work(*args))
    except BaseException as exc:  # report it; the parent raises
        queue.put(exc)


class SeededMulticoreSampler(Sampler):
    """A reproducible multicore pyabc sampler (see the module docstring).

    Parameters
    ----------
    seed : int
        Root seed.
    n_procs : int, optional
        Worker processes; default all cores. With 1 the sampling runs in this process.
    """

    def __init__(self, seed: int, n_procs: int | None = None) -> None:
        super().__init__()
        self.seed = int(seed)
        self.n_procs = max(1, int(n_procs or os.cpu_count() or 1))

    def sample_until_n_accepted(
        self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
    ):  # noqa: ARG002
        procs = max(1, min(self.n_procs, n))
        # pyabc's calibration sample from the prior uses t = -1; slots keep it apart via +2
        budget = max_eval / n if math.isfinite(max_eval) else math.inf
        common = (self.seed, t, budget, self.sample_factory, all_accepted)
        slots = [list(range(k, n, procs)) for k in range(procs)]
        results: list[tuple[int, Any, int]] = []
        if procs == 1:
            results = _work(simulate_one, slots[0], *common)
        else:
            ctx = get_mp_context()
            queue = ctx.Queue()
            workers = [
                ctx.Process(
                    target=_work_process, daemon=True, args=(queue, simulate_one, slots[k], *common)
                )
                for k in range(procs)
            ]
            for w in workers:
                w.start()
            try:
                for _ in range(procs):
                    got = queue.get()
                    if isinstance(got, BaseException):
                        raise RuntimeError(f"a calibration worker failed: {got!r}") from got
                    results.extend(got)
            finally:
                for w in workers:
                    w.join(timeout=5)
                    if w.is_alive():
                        w.terminate()
        results.sort(key=lambda r: r[0])
        sample = self._create_empty_sample()
        for _, s, _ in results:
            sample += s
        self.nr_evaluations_ = sum(r[2] for r in results)
        if sample.n_accepted < n:
            sample.ok = False
        return sample


@dataclass
class CalibrationConfig:
    """What identifies a calibration (a re-run on the same directory must match)."""

    targets_file: str
    targets_sha256: str
    scenario: str
    parameters: list[str]
    priors: dict[str, list[float]]
    population: int
    seed: int
    replications: int

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _targets_digest(targets: TargetSet) -> str:
    h = hashlib.sha256(targets.path.read_bytes())
    for t in targets.targets:
        if t.observed is not None:
            h.update(t.observed.to_csv(index=False).encode())
    return h.hexdigest()


def db_url(out: Path) -> str:
    """The SQLAlchemy address of a calibration's database."""
    return "sqlite:///" + str((Path(out) / DB_NAME).resolve())


def _existing_generations(out: Path) -> int:
    import pyabc

    if not (out / DB_NAME).exists():
        return 0
    history = pyabc.History(db_url(out), create=False)
    if history.id is None:
        return 0
    return int(history.n_populations)


def generation_table(history: Any) -> list[dict[str, Any]]:
    """Per generation: epsilon, simulations, accepted particles, acceptance rate, wall time."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    rows = []
    for _, r in pops.iterrows():
        samples = int(r["samples"])
        particles = int(r["particles"]) if not math.isnan(r["particles"]) else 0
        rows.append(
            {
                "generation": int(r["t"]),
                "epsilon": float(r["epsilon"]),
                "simulations": samples,
                "accepted": particles,
                "acceptance_rate": particles / samples if samples else math.nan,
                "wall_time_s": float(r["wall_time"]) if r["wall_time"] is not None else math.nan,
            }
        )
    return rows


def calibrate(
    targets: TargetSet,
    out: str | Path,
    *,
    params: Sequence[str] | None = None,
    simulator: Simulator | None = None,
    population: int = 100,
    generations: int = 5,
    seed: int = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    min_acceptance: float = 0.002,
    progress: ProgressFn | None = None,
) -> Any:
    """Run (or continue) an ABC-SMC calibration and return its pyabc ``History``.

    Parameters
    ----------
    targets : TargetSet
        What the model must reproduce.
    out : path
        Output directory (created); holds the database and ``calibration.json``.
    params : sequence of str, optional
        Parameters to calibrate; default: the targets file's ``parameters``.
    simulator : Simulator, optional
        Default: the model on the targets file's scenario.
    population : int
        Particles per generation.
    generations : int
        Total generations wanted (those already in the database count).
    seed : int
        Root seed of the proposals and of every model run.
    workers : int, optional
        Processes for the seeded multicore sampler; default all cores.
    scheduler : str, optional
        Address of a Dask scheduler: use pyabc's ``DaskDistributedSampler``.
    min_acceptance : float
        Stop when a generation's acceptance rate would fall below this.
    progress : callable, optional
        Called after each generation with its row of :func:`generation_table`.

    Raises
    ------
    LasimInputError
        Bad parameters or priors, or ``out`` holds a different calibration.
        Checked before anything is written.
    """
    import pyabc

    out = Path(out)
    simulator = simulator or ModelSimulator(targets.scenario)
    params = list(params or targets.parameters)
    where = "--params" if params != targets.parameters else f"{targets.path}: parameters"
    priors = build_priors(params, simulator.parameter_specs(), targets.priors, where=where)
    if population < 2:
        raise LasimInputError(f"--population: {population} is too small (at least 2)")
    if generations < 1:
        raise LasimInputError(f"--generations: {generations} must be at least 1")
    config = CalibrationConfig(
        targets_file=str(targets.path),
        targets_sha256=_targets_digest(targets),
        scenario=targets.scenario,
        parameters=params,
        priors={p.name: [p.low, p.high] for p in priors},
        population=int(population),
        seed=int(seed),
        replications=targets.replications,
    )
    meta_path = out / META_NAME
    done = 0
    if meta_path.exists() or (out / DB_NAME).exists():
        try:
            old = json.loads(meta_path.read_text(encoding="utf-8"))["config"]
        except (OSError, ValueError, KeyError):
            raise LasimInputError(
                f"{out}: holds a calibration database without a readable {META_NAME}; "
                "use a new --out"
            ) from None
        mine = config.as_dict()
        diff = [k for k in mine if k != "targets_file" and old.get(k) != mine[k]]
        if diff:
            raise LasimInputError(
                f"{out}: holds a different calibration ({diff[0]}: {old.get(diff[0])!r} there, "
                f"{mine[diff[0]]!r} now); use a new --out"
            )
        done = _existing_generations(out)
    elif out.exists() and any(out.iterdir()):
        raise LasimInputError(f"{out}: exists and is not a calibration directory; use a new --out")

    out.mkdir(parents=True, exist_ok=True)
    if done == 0:
        # a run interrupted inside its first generation left no population: start clean,
        # or pyabc would add a second analysis to the same database
        (out / DB_NAME).unlink(missing_ok=True)
    atomic_write_json(
        meta_path,
        {
            "config": config.as_dict(),
            "provenance": provenance(),
            "generations_requested": int(generations),
        },
    )
    logging.getLogger("ABC").setLevel(logging.WARNING)

    model = TargetModel(targets, simulator, int(seed))
    distance = TargetDistance(targets)
    x0 = observed_statistics(targets)
    prior = pyabc_distribution(priors)
    client = None
    if scheduler:
        from dask.distributed import Client

        try:
            client = Client(scheduler, timeout=30)
        except OSError as exc:
            raise LasimInputError(f"--scheduler: cannot reach {scheduler} ({exc})") from None
    try:
        history = None
        for t in range(done, int(generations)):
            _seed_everything(_seed_from(seed, t, 99))
            sampler = (
                pyabc.sampler.DaskDistributedSampler(dask_client=client)
                if client
                else SeededMulticoreSampler(seed, workers)
            )
            abc = pyabc.ABCSMC(
                model, prior, distance, population_size=int(population), sampler=sampler
            )
            if t == 0:
                abc.new(db_url(out), x0, meta_info={"lasim": json.dumps(config.as_dict())})
            else:
                abc.load(db_url(out), 1)
            start = time.perf_counter()
            history = abc.run(max_nr_populations=1, min_acceptance_rate=min_acceptance)
            rows = generation_table(history)
            if len(rows) <= t:  # the generation was abandoned (acceptance too low)
                if progress:
                    progress(
                        {
                            "generation": t,
                            "stopped": f"acceptance rate below {min_acceptance:g}",
                            "wall_time_s": time.perf_counter() - start,
                        }
                    )
                break
            if progress:
                progress(rows[t])
            if rows[t]["epsilon"] <= 0.0:
                if progress:
                    progress(
                        {
                            "generation": t,
                            "stopped": "epsilon reached 0: every accepted "
                            "particle meets every target",
                        }
                    )
                break
        if history is None:
            history = pyabc.History(db_url(out), create=False)
            history.id = 1
        return history
    finally:
        if client is not None:
            client.close()


def load_history(out: str | Path) -> Any:
    """The pyabc ``History`` of a calibration directory."""
    import pyabc

    out = Path(out)
    if not (out / DB_NAME).exists():
        raise LasimInputError(f"{out}: no {DB_NAME} here (not a calibration directory)")
    history = pyabc.History(db_url(out), create=False)
    if history.id is None or history.max_t is None or history.max_t < 0:
        raise LasimInputError(f"{out}: the calibration has no finished generation yet")
    return history


def read_config(out: str | Path) -> dict[str, Any]:
    """The ``calibration.json`` of a calibration directory."""
    path = Path(out) / META_NAME
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LasimInputError(f"{path}: cannot read ({exc})") from None


def priors_of(config: dict[str, Any]) -> list[UniformPrior]:
    """The priors recorded in a calibration's config."""
    return [UniformPrior(k, v[0], v[1]) for k, v in config["config"]["priors"].items()]
