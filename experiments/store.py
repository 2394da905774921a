"""The output directory of an experiment: a manifest plus Parquet shards that resume.

Layout of ``DIR``::

    manifest.json        spec, fingerprints, run ids and seeds, sessions (start, end,
                         lasim version, git commit, executor, counts)
    spec.toml            the spec as run (normalised)
    plan.parquet         every planned run: run_id, sample_id, replication, seed, factors
    design.parquet       the sampler's raw matrix (LHS, Sobol, Morris), for the analyses
    runs/summary-S-N.parquet   finished runs, one row each (written atomically)
    runs/series-S-N.parquet    their monthly series, if the spec keeps series
    failures.parquet     runs that raised: parameters, seed, error and traceback

A run is finished once its row is in a summary shard. Shards are only ever
added (each one atomically), so a crash at any moment leaves a directory from
which :func:`load_results` and a resumed sweep see every finished run once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import tomli_w

from model.errors import LasimInputError
from model.scenario import scenario_to_toml

from .files import atomic_write_json, atomic_write_text, clean_leftovers, provenance, write_parquet
from .spec import ExperimentSpec

STORE_FORMAT = 1
MANIFEST = "manifest.json"
LOCK = ".lock"
FAILURES = "failures.parquet"
ID_COLUMNS = ["run_id", "sample_id", "replication", "seed"]


def scenario_fingerprint(scenario: Any) -> str:
    """Hash of the base scenario's full content (a scenario file can change under a name)."""
    members = scenario if isinstance(scenario, tuple) else (scenario,)
    return hashlib.sha256("\n".join(scenario_to_toml(m) for m in members).encode()).hexdigest()[:16]


class Store:
    """An experiment output directory (see the module docstring for its layout)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.runs_dir = self.root / "runs"
        self._manifest: dict[str, Any] | None = None
        self._session: int | None = None
        self._seq = 0
        self._meta: dict[str, Any] = {}
        self._lock_fd: int | None = None

    # ---------------------------------------------------------------- opening
    @property
    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            self._manifest = read_manifest(self.root)
        return self._manifest

    @classmethod
    def check_target(cls, root: str | Path, spec: ExperimentSpec, scenario_fp: str) -> bool:
        """Refuse a directory that is not this experiment's; return True if it exists.

        Called before anything is written, so a refused directory is left untouched.
        """
        root = Path(root)
        if root.exists() and not root.is_dir():
            raise LasimInputError(f"--out = {str(root)!r}: exists and is not a directory")
        if not (root / MANIFEST).exists():
            if root.exists() and not _unfinished_creation(root):
                raise LasimInputError(
                    f"--out = {str(root)!r}: directory is not empty and holds no lasim "
                    "experiment (no manifest.json); choose a new or empty directory"
                )
            return False
        manifest = read_manifest(root)
        stored_off = list(manifest.get("spec", {}).get("off", []))
        if stored_off != list(spec.off):
            raise LasimInputError(
                f"--out = {str(root)!r}: holds an experiment run with off = {stored_off} (mechanisms "
                f"switched off); this command has off = {list(spec.off)}; results are never merged, "
                "give the same --off flags to resume or choose a new --out directory"
            )
        if manifest.get("spec_fingerprint") != spec.fingerprint():
            raise LasimInputError(
                f"--out = {str(root)!r}: holds results of a different spec "
                f"({manifest.get('spec_source', '?')}, fingerprint "
                f"{manifest.get('spec_fingerprint')}; this spec is {spec.fingerprint()}); "
                "results are never merged, choose a new --out directory"
            )
        if manifest.get("scenario_fingerprint") != scenario_fp:
            raise LasimInputError(
                f"--out = {str(root)!r}: scenario {spec.scenario!r} has changed since this "
                "directory was started; results are never merged, choose a new --out directory"
            )
        return True

    def lock(self) -> None:
        """Take the store for this session; a second writer gets one line and exit 2.

        An advisory ``flock`` on ``DIR/.lock``: the kernel drops it when the process
        dies, however it dies, so a killed session never leaves a stale lock.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.read(fd, 64).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise LasimInputError(
                f"--out = {str(self.root)!r}: another lasim session (pid {holder}) is writing to "
                "it; wait for it to finish or choose another --out directory") from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def unlock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    @classmethod
    def open(cls, root: str | Path, spec: ExperimentSpec, scenario: Any, plan: pd.DataFrame,
             raw: np.ndarray | None, executor_label: str = "", run_function: str = "",
             force_resume: bool = False) -> Store:
        """Create the store for ``spec`` or reopen it to resume; start a new session.

        The store is locked until :meth:`end_session`. A resume is refused when the
        stored runs were made by another lasim version or another run function
        (results of different code would merge), unless ``force_resume``.
        """
        scenario_fp = scenario_fingerprint(scenario)
        cls.check_target(root, spec, scenario_fp)
        store = cls(root)
        store.lock()
        try:
            store._open(spec, scenario_fp, plan, raw, executor_label, run_function, force_resume)
        except BaseException:
            store.unlock()
            raise
        return store

    def _open(self, spec: ExperimentSpec, scenario_fp: str, plan: pd.DataFrame,
              raw: np.ndarray | None, executor_label: str, run_function: str,
              force_resume: bool) -> None:
        store = self
        # checked again under the lock: another session may have created it meanwhile
        exists = self.check_target(self.root, spec, scenario_fp)
        clean_leftovers(self.root)
        clean_leftovers(self.runs_dir)
        prov = provenance()
        if exists:
            _check_resume(self.root, self.manifest, prov, run_function, force_resume)
        else:
            for name in ("plan.parquet", "design.parquet", "spec.toml"):
                (store.root / name).unlink(missing_ok=True)  # an unfinished creation's
            store.runs_dir.mkdir(parents=True, exist_ok=True)
            meta = _file_meta(spec, prov)
            write_parquet(store.root / "plan.parquet", plan, meta)
            if raw is not None:
                design = pd.DataFrame(raw, columns=spec.factor_names)
                design.insert(0, "sample_id", np.arange(len(design), dtype=np.int64))
                write_parquet(store.root / "design.parquet", design, meta)
            atomic_write_text(store.root / "spec.toml", tomli_w.dumps(spec.to_dict()))
            reps = spec.replications
            seeds_note = (
                {"seeds_by_replication": [int(s) for s in plan["seed"].iloc[:reps]]}
                if spec.common_random_numbers else {"seeds": "per run, in plan.parquet"}
            )
            store._manifest = {
                "lasim_store": STORE_FORMAT,
                "name": spec.name,
                "spec_source": spec.source,
                "spec_fingerprint": spec.fingerprint(),
                "spec": spec.to_dict(),
                "scenario": spec.scenario,
                "scenario_fingerprint": scenario_fp,
                "factors": spec.factor_names,
                "outcomes": list(spec.outcomes) if spec.outcomes else None,
                "runs": {"count": int(len(plan)), "run_ids": f"0..{len(plan) - 1}",
                         "root_seed": spec.seed,
                         "common_random_numbers": spec.common_random_numbers, **seeds_note},
                "created": prov,
                "run_function": run_function,
                "sessions": [],
                "status": "new",
            }
        store._session = len(store.manifest["sessions"])
        store._meta = _file_meta(spec, prov) | {"session": store._session}
        store.manifest["sessions"].append({
            "started": prov["created"], "ended": None, "lasim_version": prov["lasim_version"],
            "git_commit": prov["git_commit"], "executor": executor_label,
            "run_function": run_function, "runs_done": 0, "failures": 0, "status": "running",
        })
        store.manifest["status"] = "running"
        store.save_manifest()

    def save_manifest(self) -> None:
        atomic_write_json(self.root / MANIFEST, self.manifest)

    # ---------------------------------------------------------------- reading
    def plan(self) -> pd.DataFrame:
        return read_table(self.root / "plan.parquet")

    def design(self) -> pd.DataFrame | None:
        path = self.root / "design.parquet"
        return read_table(path) if path.exists() else None

    def summary_shards(self) -> list[Path]:
        return sorted(self.runs_dir.glob("summary-*.parquet"))

    def finished_ids(self) -> set[int]:
        """Run ids with a result row in some shard (failed runs are not finished)."""
        ids: set[int] = set()
        for shard in self.summary_shards():
            ids.update(read_table(shard, columns=["run_id"])["run_id"].tolist())
        return ids

    def failures(self) -> pd.DataFrame:
        path = self.root / FAILURES
        return read_table(path) if path.exists() else pd.DataFrame(columns=ID_COLUMNS)

    # ---------------------------------------------------------------- writing
    def write_shard(self, rows: list[dict[str, Any]], series: list[pd.DataFrame]) -> None:
        """Add one shard of finished runs (and their series) atomically.

        The series shard is written first: if we die between the two files, the
        runs are not finished and will be redone, and their orphan series rows
        are dropped by :func:`load_results` (it keeps series of finished runs only).
        """
        if not rows:
            return
        self._seq += 1
        stem = f"{self._session:03d}-{self._seq:06d}"
        if series:
            write_parquet(self.runs_dir / f"series-{stem}.parquet",
                          pd.concat(series, ignore_index=True), self._meta)
        write_parquet(self.runs_dir / f"summary-{stem}.parquet", _summary_frame(rows), self._meta)

    def write_failures(self, failures: pd.DataFrame) -> None:
        if failures.empty:
            (self.root / FAILURES).unlink(missing_ok=True)
            return
        write_parquet(self.root / FAILURES, failures.sort_values("run_id"), self._meta)

    def end_session(self, *, status: str, runs_done: int, failures: int) -> None:
        session = self.manifest["sessions"][self._session]
        session.update(ended=provenance()["created"], status=status, runs_done=runs_done,
                       failures=failures)
        self.manifest["status"] = status
        self.save_manifest()
        self.unlock()


def _unfinished_creation(root: Path) -> bool:
    """True if ``root`` holds only what a store writes before its first manifest.

    A kill between ``plan.parquet`` and ``manifest.json`` leaves such a folder; no
    run has been stored yet, so the same command starts it again from scratch.
    """
    allowed = {"plan.parquet", "design.parquet", "spec.toml", "runs", LOCK}
    for p in root.iterdir():
        if p.name == "runs" and p.is_dir():
            if any(p.glob("summary-*.parquet")):
                return False
        elif p.name not in allowed and not (p.name.startswith(".") and p.name.endswith(".tmp")):
            return False
    return True


def _check_resume(root: Path, manifest: dict[str, Any], prov: dict[str, str], run_function: str,
                  force: bool) -> None:
    """Refuse to add runs of other code to a store, unless told to (``--force-resume``)."""
    if force:
        return
    sessions = manifest.get("sessions") or [{}]
    last = sessions[-1]
    stored_version = last.get("lasim_version") or manifest.get("created", {}).get("lasim_version")
    if stored_version and stored_version != prov["lasim_version"]:
        raise LasimInputError(
            f"--out = {str(root)!r}: its runs were made by lasim {stored_version}, this is lasim "
            f"{prov['lasim_version']}; results of different versions are not merged unless you "
            "add --force-resume")
    stored_fn = manifest.get("run_function", last.get("run_function"))
    if stored_fn is not None and stored_fn != run_function:
        raise LasimInputError(
            f"--out = {str(root)!r}: its runs were made by run function {stored_fn!r}, this "
            f"session would use {run_function!r} (LASIM_RUN_FUNCTION); not merged unless you "
            "add --force-resume")


def _file_meta(spec: ExperimentSpec, prov: dict[str, str]) -> dict[str, Any]:
    return {
        "experiment": spec.name, "scenario": spec.scenario, "root_seed": spec.seed,
        "spec_fingerprint": spec.fingerprint(), "lasim_version": prov["lasim_version"],
        "git_commit": prov["git_commit"], "created": prov["created"],
    }


def _summary_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows)
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = _coerce(df[col])
    df["seed"] = df["seed"].astype(np.uint64)
    return df


def _coerce(col: pd.Series) -> pd.Series:
    """Give an object column of outcomes one Parquet-friendly type.

    A field that is ``None`` in every run of a shard (e.g. ``scale_month`` when
    nothing scaled) would otherwise become a null-typed column that clashes with
    the same field elsewhere.
    """
    values = col.dropna()
    if values.empty:
        return col.astype(float)
    if all(isinstance(v, bool | np.bool_) for v in values):
        return col.astype("boolean")
    if all(isinstance(v, int | float | np.number) for v in values):
        return pd.to_numeric(col, errors="coerce").astype(float)
    return col.astype(str).where(col.notna(), None)


def read_table(path: Path, columns: list[str] | None = None) -> pd.DataFrame:
    """Read one Parquet file of a store; a damaged one is a one-line error naming it.

    lasim writes every file atomically, so a truncated file means it was damaged
    afterwards (a full disk, a copy cut short).
    """
    try:
        return pq.read_table(path, columns=columns).to_pandas()
    except (pa.ArrowException, OSError) as exc:
        raise LasimInputError(
            f"{path}: damaged or truncated Parquet file ({str(exc).splitlines()[0]}); restore it, "
            "or move it away and rerun the same command to redo its runs") from None


def read_manifest(root: str | Path) -> dict[str, Any]:
    """Read ``DIR/manifest.json``; a missing or broken one is a user error."""
    path = Path(root) / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LasimInputError(
            f"{root}: not a lasim experiment directory (no manifest.json); "
            "make one with lasim sweep SPEC --out DIR"
        ) from None
    except (OSError, json.JSONDecodeError) as exc:
        raise LasimInputError(f"{path}: cannot read manifest: {exc}") from None


def load_results(root: str | Path, *, series: bool = False,
                 failures: bool = False) -> pd.DataFrame:
    """Load an experiment directory into one frame.

    Parameters
    ----------
    root : path
        A directory written by ``lasim sweep`` / ``lasim sensitivity``.
    series : bool
        Return the monthly series (one row per run and month) instead of the
        run summaries.
    failures : bool
        Return the failed runs (with error and traceback) instead.

    Returns
    -------
    DataFrame
        One row per finished run, sorted by ``run_id``: ids, seed, factor values
        and outcomes. ``df.attrs["manifest"]`` holds the manifest.
    """
    manifest = read_manifest(root)
    store = Store(root)
    if failures:
        df = store.failures()
    else:
        frames = [read_table(p) for p in store.summary_shards()]
        if frames:
            df = pd.concat(frames, ignore_index=True)
        else:
            df = pd.DataFrame(columns=[*ID_COLUMNS, *manifest.get("factors", [])])
        df = _tidy(df)
        # A run appears once by construction; guard anyway, a duplicate would bias
        # every probability computed from the frame.
        df = df.drop_duplicates("run_id", keep="first").sort_values("run_id")
        if series:
            done = set(df["run_id"])
            paths = sorted(store.runs_dir.glob("series-*.parquet"))
            if not paths:
                raise LasimInputError(
                    f"{root}: has no series; set series = true in the spec to keep them"
                )
            s = pd.concat([read_table(p) for p in paths], ignore_index=True)
            df = s[s["run_id"].isin(done)].drop_duplicates(["run_id", "month"])
            df = df.sort_values(["run_id", "month"])
    df = df.reset_index(drop=True)
    df.attrs["manifest"] = manifest
    return df


def _tidy(df: pd.DataFrame) -> pd.DataFrame:
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = _coerce(df[col])
    return df


def outcome_columns(df: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    """The outcome columns of a results frame (everything but ids, factors and timing)."""
    skip = set(ID_COLUMNS) | set(manifest.get("factors", [])) | {"run_seconds"}
    return [c for c in df.columns if c not in skip]


def iter_chunks(df: pd.DataFrame, size: int) -> Iterable[pd.DataFrame]:
    for start in range(0, len(df), size):
        yield df.iloc[start:start + size]
