"""What produced a result file: package version, git commit, Python, time."""

from __future__ import annotations

import datetime as _dt
import os
import platform
import subprocess
from pathlib import Path

from . import __version__

_REPO = Path(__file__).resolve().parent.parent


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
        "lasim_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
