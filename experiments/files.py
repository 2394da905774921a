"""Result files: written atomically, with the umask's permissions, and saying what made them.

Every layer that writes results (``experiments``, ``calibration``, the CLI) uses
this module, which imports nothing of lasim but ``model.errors``: so the
low-level IO sits at the bottom of the layers that write, and ``lasim`` stays
the top.

- :func:`atomic_write` and friends: a file is complete or absent, never half written;
- :func:`replace_dir`: a directory of results is swapped in whole (new beside old,
  swap, then delete), so a kill at any moment leaves the old results or the new;
- :func:`write_parquet`: Parquet with the provenance in the file's own metadata;
- :func:`write_csv`: plain CSV (opens in pandas, R, Excel as it is) with its
  provenance in ``<stem>.provenance.json`` beside it;
- :func:`provenance`: version, git commit, Python, time.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from model.errors import LasimInputError

try:
    LASIM_VERSION = version("lasim")
except PackageNotFoundError:  # a source tree that was never installed
    LASIM_VERSION = "0.0.0+unknown"

_REPO = Path(__file__).resolve().parent.parent


def _file_mode() -> int:
    """Permissions a plain ``open()`` would give a new file under the current umask."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> Path:
    """Write ``path`` through ``write(tmp_path)`` and rename it into place.

    The temporary file sits in the same directory so the final ``os.replace`` is
    atomic; a crash leaves at most a stray ``.tmp`` file (:func:`clean_leftovers`
    removes it), never a truncated result. The file gets the umask's permissions,
    not ``mkstemp``'s private 0600.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        os.chmod(tmp_path, _file_mode())
        os.replace(tmp_path, path)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write(path, lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_json(path: str | Path, data: Any) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=2, default=str) + "\n")


def path_safe(name: str) -> str:
    """A user-supplied name as one file-name component: letters, digits, ``.``, ``_``, ``-``.

    A scenario or design ``name`` is text, never a path: ``"../../x"`` becomes
    ``"x"`` and ``"/some/dir"`` becomes ``"some_dir"``, so nothing is written
    outside the output folder whatever a file says.
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", str(name)).strip("._")
    return cleaned[:100] or "unnamed"


def check_output(path: str | Path, *, overwrite: bool, flag: str = "--out",
                 directory: bool = True) -> Path:
    """Refuse an output that exists (a non-empty folder, or a file) unless ``overwrite``.

    Called before any run starts, so a refusal costs nothing and loses nothing.
    """
    path = Path(path)
    if directory and path.exists() and not path.is_dir():
        raise LasimInputError(f"{flag} = {str(path)!r}: exists and is not a directory")
    if not directory and path.is_dir():
        raise LasimInputError(f"{flag} = {str(path)!r}: is a directory; give a file name")
    occupied = path.is_file() or (path.is_dir() and any(path.iterdir()))
    if occupied and not overwrite:
        what = "directory exists and is not empty" if directory else "file exists"
        raise LasimInputError(f"{flag} = {str(path)!r}: {what}; choose another or add --overwrite")
    return path


def clean_leftovers(folder: str | Path) -> list[Path]:
    """Remove the temporary files and folders an interrupted write left in ``folder``."""
    removed = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    for p in folder.iterdir():
        if p.name.startswith(".") and (p.name.endswith(".tmp") or ".o." in p.name or ".new." in p.name):
            shutil.rmtree(p) if p.is_dir() else p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def new_dir_beside(target: str | Path) -> Path:
    """An empty hidden directory next to ``target``, to fill and then :func:`replace_dir`."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    new = Path(tempfile.mkdtemp(prefix=f".{target.name}.new.", dir=target.parent))
    os.chmod(new, _file_mode() | ((_file_mode() & 0o444) >> 2))  # rwx where the umask allows rw
    return new


def replace_dir(new: Path, target: str | Path) -> None:
    """Put the filled directory ``new`` in place of ``target`` without a moment of loss.

    The old directory is first renamed aside (``.NAME.o.*``), the new one renamed
    into place, and only then the old one deleted: a kill between any two steps
    leaves the old results or the new ones, and hidden leftovers that
    :func:`clean_leftovers` removes.
    """
    target = Path(target)
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.o.", dir=target.parent))
        os.replace(target, old / "data")
    try:
        os.replace(new, target)
    except BaseException:
        if old is not None:
            os.replace(old / "data", target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_parquet(path: str | Path, df: Any, meta: dict[str, Any]) -> Path:
    """Write ``df`` atomically with ``meta`` (provenance) in the Parquet schema metadata."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[b"lasim"] = json.dumps(meta, default=str).encode()
    table = table.replace_schema_metadata(metadata)
    return atomic_write(path, lambda p: pq.write_table(table, p))


def provenance_path(csv_path: str | Path) -> Path:
    """Where the provenance of a CSV lives: ``table.csv`` -> ``table.provenance.json``."""
    p = Path(csv_path)
    return p.with_name(p.stem + ".provenance.json")


def write_csv(path: str | Path, df: Any, meta: dict[str, Any], *, comment: bool = False) -> list[Path]:
    """Write ``df`` as plain CSV with ``meta`` in a JSON file beside it.

    A CSV with a leading ``#`` line reads as one column in ``pd.read_csv``, R's
    ``read.csv`` and Excel, so the provenance goes into :func:`provenance_path`.
    ``comment=True`` also puts it in a leading ``# key=value ...`` line, for
    readers who asked for it (``pd.read_csv(f, comment="#")``).

    Returns the CSV's path, then the JSON's.
    """
    header = ("# " + " ".join(f"{k}={v}" for k, v in meta.items()) + "\n") if comment else ""
    csv_path = atomic_write_text(path, header + df.to_csv(index=False))
    return [csv_path, atomic_write_json(provenance_path(path), {"file": Path(path).name, **meta})]


def read_parquet_meta(path: str | Path) -> dict[str, Any]:
    """The ``lasim`` provenance block of a Parquet file written by :func:`write_parquet`."""
    md = pq.read_schema(path).metadata or {}
    return json.loads(md.get(b"lasim", b"{}"))


def git_commit() -> str:
    """The commit of the source tree lasim runs from, ``+dirty`` if it has changes.

    Returns ``"unknown"`` when lasim is not run from a git checkout.
    """
    try:
        sha = subprocess.run(
            ["git", "-C", str(_REPO), "rev-parse", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(_REPO), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return os.environ.get("LASIM_GIT_COMMIT", "unknown")
    return sha + ("+dirty" if dirty else "")


def provenance() -> dict[str, str]:
    """A dict to embed in every result file."""
    return {
        "lasim_version": LASIM_VERSION,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
