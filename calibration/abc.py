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
system and fork a (multi-threaded) parent, so :class:`SeededSampler` replaces
them. Particle slot ``i`` of generation ``t`` draws proposals from its own seed
``(seed, t, i)`` until one is accepted; the slots are evaluated on the run
layer's local worker processes (:mod:`experiments.executors`: forkserver or
spawn, never a fork of this parent) and put back in slot order, so a
calibration is the same whatever the number of workers, the machine's load and
which worker finishes first, and a generation interrupted half-way is re-done
identically. Model runs are seeded from the parameter values
(:func:`calibration.evaluate.replication_seeds`), so each simulation is
reproducible on every sampler, including pyabc's Dask sampler (``--scheduler``),
whose proposals are not (pyabc re-seeds Dask tasks from the OS).

A calibration records a digest of the code and library versions that can move
its results (:func:`code_digest`); resuming a directory made by other code is
refused, so a stale database can never stand in for a fresh run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cloudpickle
import numpy as np
from pyabc.sampler import Sampler

from experiments.files import atomic_write_json, provenance
from experiments.runs import make_executor, run_many
from model.digest import model_digest
from model.errors import LasimInputError

from .evaluate import TargetDistance, TargetModel, never_computed, observed_statistics
from .priors import UniformPrior, build_priors, pyabc_distribution
from .simulator import ModelSimulator, Simulator
from .stopping import MAX_GENERATIONS, MIN_ACCEPTANCE, MIN_EPS_DROP, MIN_ESS, stop_reason
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


def _fill_slot(
    simulate_one: Callable,
    sample_factory: Any,
    slot: int,
    root: int,
    t: int,
    budget: float,
    all_accepted: bool,
) -> tuple[int, Any, int]:
    """Fill one particle slot: draw from the slot's own seed until a particle is accepted."""
    _seed_everything(_seed_from(root, t + 2, int(all_accepted), slot))
    sample = sample_factory()
    n_eval = 0
    while n_eval < budget:
        particle = simulate_one()
        sample.append(particle)
        n_eval += 1
        if all_accepted or particle.accepted:
            break
    return slot, sample, n_eval


# One generation's sampling function, unpickled once per worker and generation.
_WORKER_CACHE: dict[str, tuple[Callable, Any]] = {}


def _fill_slot_remote(token: str, payload: bytes, *args: Any) -> tuple[int, Any, int]:

    if token not in _WORKER_CACHE:
        _WORKER_CACHE.clear()
        _WORKER_CACHE[token] = cloudpickle.loads(payload)
    simulate_one, factory = _WORKER_CACHE[token]
    return _fill_slot(simulate_one, factory, *args)


def _slot_run(item: tuple[str, bytes, tuple], seed: int, *, series: bool = False) -> SimpleNamespace:
    """A run function for :func:`experiments.runs.run_many`: fill one particle slot.

    The slot's own seed travels in ``item``; run_many's ``seed`` is unused.
    """
    token, payload, args = item
    slot, sample, n_eval = _fill_slot_remote(token, payload, *args)
    return SimpleNamespace(summary={"evaluated": n_eval}, series=None, extra=(slot, sample))


class SeededSampler(Sampler):
    """A reproducible pyabc sampler on the run layer's worker processes (see the module docstring).

    Parameters
    ----------
    seed : int
        Root seed.
    n_procs : int, optional
        Worker processes; default all cores. With 1 the sampling runs in this process.
    progress : callable, optional
        Called after each filled slot with ``{"t", "filled", "n", "evaluated"}``.
    """

    def __init__(
        self, seed: int, n_procs: int | None = None, progress: ProgressFn | None = None
    ) -> None:
        super().__init__()
        self.seed = int(seed)
        self.n_procs = max(1, int(n_procs or os.cpu_count() or 1))
        self.progress = progress
        self._executor: Any = None
        self._calls = 0

    def close(self) -> None:
        """Stop the worker processes (pending slots are cancelled)."""
        if self._executor is not None:
            self._executor.close()
            self._executor = None

    def sample_until_n_accepted(
        self, n, simulate_one, t, *, max_eval=np.inf, all_accepted=False, ana_vars=None
    ):  # noqa: ARG002
        # pyabc's calibration sample from the prior uses t = -1; slot seeds keep it apart via +2
        budget = max_eval / n if math.isfinite(max_eval) else math.inf
        args = [(i, self.seed, t, budget, all_accepted) for i in range(n)]
        results: list[tuple[int, Any, int]] = []
        evaluated = 0

        def tick(r: tuple[int, Any, int]) -> None:
            nonlocal evaluated
            results.append(r)
            evaluated += r[2]
            if self.progress:
                self.progress({"t": t, "filled": len(results), "n": n, "evaluated": evaluated})

        if self.n_procs == 1 or n == 1:
            for a in args:
                tick(_fill_slot(simulate_one, self.sample_factory, *a))
        else:
            # the run layer's local processes: forkserver or spawn, never a fork of this
            # (threaded) parent; results are put back in slot order below, whatever finished first
            if self._executor is None:
                self._executor = make_executor(processes=self.n_procs)
            self._calls += 1
            token = f"{os.getpid()}:{id(self)}:{self._calls}"
            payload = cloudpickle.dumps((simulate_one, self.sample_factory))

            def collect(run: Any) -> None:
                if not run.ok:
                    raise RuntimeError(f"particle slot {run.scenario_index} failed: {run.error}")
                slot, sample = run.extra
                tick((slot, sample, int(run.summary["evaluated"])))

            run_many([(token, payload, a) for a in args], [0], executor=self._executor,
                     run_fn=_slot_run, on_result=collect)
        results.sort(key=lambda r: r[0])
        sample = self._create_empty_sample()
        for _, s, _ in results:
            sample += s
        self.nr_evaluations_ = evaluated
        if sample.n_accepted < n:
            sample.ok = False
        return sample


def code_digest() -> dict[str, str]:
    """What besides the inputs can move a calibration: source digests and library versions.

    ``model`` and ``calibration`` sources (Python files and shipped scenarios and
    targets) are hashed; numpy, scipy, pandas, pyabc, Mesa and networkx
    versions are recorded (random streams and numerical results may change
    between their releases; ``constraints.txt`` pins them).
    """


    h = hashlib.sha256(model_digest().encode())
    here = Path(__file__).parent
    # the calibration modules that decide what enters the database
    for m in ("abc", "evaluate", "priors", "simulator", "targets"):
        h.update(f"{m}.py".encode())
        h.update((here / f"{m}.py").read_bytes())
    out = {"sources_sha256": h.hexdigest()[:16]}
    for dist in ("numpy", "scipy", "pandas", "pyabc", "mesa", "networkx"):
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "absent"
    return out


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
    code: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _targets_digest(targets: TargetSet) -> str:
    h = hashlib.sha256(targets.path.read_bytes())
    # a subset of a file's targets (a k-fold split) is another calibration
    h.update("\n".join(t.name for t in targets.targets).encode())
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
    # pyabc creates any missing table whenever it opens a database, so a reader opening
    # one whose writer is still creating them made the writer fail ("table particles
    # already exists"); read-only, look for the whole schema first
    from pyabc.storage.db_model import Base

    with closing(sqlite3.connect(f"{(out / DB_NAME).resolve().as_uri()}?mode=ro", uri=True)) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not set(Base.metadata.tables) <= tables:
        raise LasimInputError(f"{out}: the calibration has no finished generation yet")
    history = pyabc.History(db_url(out), create=False)
    if history.id is None:
        return 0
    return int(history.n_populations)


def generation_table(history: Any) -> list[dict[str, Any]]:
    """Per generation: epsilon, simulations, accepted particles, acceptance rate, effective
    sample size of its weights (Kish), wall time."""
    pops = history.get_all_populations()
    pops = pops[pops["t"] >= 0]
    rows = []
    for _, r in pops.iterrows():
        samples = int(r["samples"])
        particles = int(r["particles"]) if not math.isnan(r["particles"]) else 0
        _, w = history.get_distribution(m=0, t=int(r["t"]))
        w = np.asarray(w, dtype=float)
        ess = float(w.sum() ** 2 / (w**2).sum()) if w.size and (w**2).sum() > 0 else 0.0
        rows.append(
            {
                "generation": int(r["t"]),
                "epsilon": float(r["epsilon"]),
                "simulations": samples,
                "accepted": particles,
                "acceptance_rate": particles / samples if samples else math.nan,
                "ess": ess,
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
    generations: int = MAX_GENERATIONS,
    seed: int = 1,
    workers: int | None = None,
    scheduler: str | None = None,
    min_epsilon: float = 0.0,
    min_eps_drop: float = MIN_EPS_DROP,
    min_acceptance: float = MIN_ACCEPTANCE,
    min_ess: float = MIN_ESS,
    progress: ProgressFn | None = None,
    particle_progress: ProgressFn | None = None,
) -> Any:
    """Run (or continue) an ABC-SMC calibration and return its pyabc ``History``.

    Generations continue until a stopping rule holds (:func:`stop_reason`) or
    ``generations`` are done.

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
        The most generations in all (those already in the database count).
    seed : int
        Root seed of the proposals and of every model run.
    workers : int, optional
        Processes for the seeded sampler; default all cores.
    scheduler : str, optional
        Address of a Dask scheduler: use pyabc's ``DaskDistributedSampler``.
    min_epsilon : float
        Stop once epsilon is at most this (0: every accepted particle meets every target).
    min_eps_drop : float
        Stop once epsilon falls by less than this share from one generation to the next.
    min_acceptance : float
        A generation that would accept less than this share of its proposals is
        abandoned (not stored) after ``population / min_acceptance`` proposals,
        and the calibration stops.
    min_ess : float
        The epsilon rules wait until the last generation's effective sample size is at
        least this share of its particles (:func:`stop_reason`).
    progress : callable, optional
        Called after each generation with its row of :func:`generation_table`,
        with ``{"resuming": k}`` when continuing a database at generation ``k``,
        and with ``{"generation", "stopped"}`` when a stopping rule holds.
    particle_progress : callable, optional
        Called inside a generation after each accepted particle (see :class:`SeededSampler`).

    Raises
    ------
    LasimInputError
        Bad parameters or priors, or ``out`` holds a different calibration
        (other inputs, code or library versions). Checked before anything is written.
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
    if not 0 <= min_acceptance < 1:
        raise LasimInputError(f"--min-acceptance: {min_acceptance} must be in [0, 1)")
    if not 0 <= min_eps_drop < 1:
        raise LasimInputError(f"--min-eps-drop: {min_eps_drop} must be in [0, 1)")
    if not 0 <= min_ess <= 1:
        raise LasimInputError(f"--min-ess: {min_ess} must be in [0, 1]")
    if not (math.isfinite(min_epsilon) and min_epsilon >= 0):
        raise LasimInputError(f"--min-epsilon: {min_epsilon} must be 0 or more")
    config = CalibrationConfig(
        targets_file=str(targets.path),
        targets_sha256=_targets_digest(targets),
        scenario=targets.scenario,
        parameters=params,
        priors={p.name: [p.low, p.high] for p in priors},
        population=int(population),
        seed=int(seed),
        replications=targets.replications,
        code=code_digest(),
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
        if diff == ["code"] or (diff and diff[0] == "code"):
            changed = sorted(
                k for k in mine["code"] if (old.get("code") or {}).get(k) != mine["code"][k]
            )
            raise LasimInputError(
                f"{out}: was made by other code or library versions ({', '.join(changed)} "
                "changed); its generations cannot be resumed: use a new --out"
            )
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
            "stopping": {
                "min_epsilon": min_epsilon,
                "min_eps_drop": min_eps_drop,
                "min_acceptance": min_acceptance,
                "min_ess": min_ess,
            },
        },
    )
    logging.getLogger("ABC").setLevel(logging.WARNING)

    model = TargetModel(targets, simulator, int(seed))
    distance = TargetDistance(targets)
    x0 = observed_statistics(targets)
    prior = pyabc_distribution(priors)
    rules = dict(min_epsilon=min_epsilon, min_eps_drop=min_eps_drop, min_acceptance=min_acceptance,
                 min_ess=min_ess)
    # a generation that would accept less than min_acceptance is abandoned (not stored)
    # once it has used population / min_acceptance proposals
    cap_rate = min_acceptance
    client = None
    if scheduler:
        from dask.distributed import Client

        try:
            client = Client(scheduler, timeout=30)
        except OSError as exc:
            raise LasimInputError(f"--scheduler: cannot reach {scheduler} ({exc})") from None
    sampler = (
        pyabc.sampler.DaskDistributedSampler(dask_client=client)
        if client
        else SeededSampler(seed, workers, progress=particle_progress)
    )
    try:
        history = None
        if done and progress:
            progress({"resuming": done})
        if done:
            history = pyabc.History(db_url(out), create=False)
            history.id = 1
            reason = stop_reason(generation_table(history), **rules)
            if reason and progress:
                progress({"generation": done - 1, "stopped": reason})
            if reason:
                return history
        for t in range(done, int(generations)):
            _seed_everything(_seed_from(seed, t, 99))
            abc = pyabc.ABCSMC(
                model, prior, distance, population_size=int(population), sampler=sampler
            )
            if t == 0:
                abc.new(db_url(out), x0, meta_info={"lasim": json.dumps(config.as_dict())})
            else:
                abc.load(db_url(out), 1)
            start = time.perf_counter()
            history = abc.run(max_nr_populations=1, min_acceptance_rate=cap_rate)
            rows = generation_table(history)
            if len(rows) <= t:  # the generation was abandoned (acceptance too low)
                if progress:
                    progress(
                        {
                            "generation": t,
                            "stopped": f"acceptance rate below {cap_rate:.2%}: generation "
                            "abandoned",
                            "wall_time_s": time.perf_counter() - start,
                        }
                    )
                break
            if progress:
                _, particles = history.get_weighted_sum_stats(t=t)
                progress({**rows[t], "never_computed": never_computed(targets, particles)})
            reason = stop_reason(rows, **rules)
            if reason:
                if progress:
                    progress({"generation": t, "stopped": reason})
                break
        else:
            if progress and done < int(generations):
                progress(
                    {"generation": int(generations) - 1, "stopped": "--generations reached"}
                )
        if history is None:
            history = pyabc.History(db_url(out), create=False)
            history.id = 1
        return history
    finally:
        if isinstance(sampler, SeededSampler):
            sampler.close()
        if client is not None:
            client.close()


def load_history(out: str | Path) -> Any:
    """The pyabc ``History`` of a calibration directory."""
    import pyabc

    out = Path(out)
    if not (out / DB_NAME).exists():
        raise LasimInputError(f"{out}: no {DB_NAME} here (not a calibration directory)")
    # pyabc creates any missing table whenever it opens a database, so a reader opening
    # one whose writer is still creating them made the writer fail ("table particles
    # already exists"); read-only, look for the whole schema first
    from pyabc.storage.db_model import Base

    with closing(sqlite3.connect(f"{(out / DB_NAME).resolve().as_uri()}?mode=ro", uri=True)) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not set(Base.metadata.tables) <= tables:
        raise LasimInputError(f"{out}: the calibration has no finished generation yet")
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
