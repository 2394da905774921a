"""One resolver of "a shipped name or a file": scenarios, designs, experiment specs, targets.

A command argument is a file if one exists at that path; otherwise a bare name
(no folder, ``.toml`` optional) is looked up among the files a package ships.
A name is never treated as a path into the package: ``../x`` finds nothing.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from .errors import LasimInputError, did_you_mean


def shipped(package: str, folder: str) -> dict[str, Path]:
    """Name -> file of the ``*.toml`` files shipped in ``package/folder``."""
    root = resources.files(package).joinpath(*folder.split("/"))
    if not root.is_dir():
        return {}
    return {p.name[:-5]: Path(str(p)) for p in root.iterdir() if p.name.endswith(".toml")}


def shipped_name(name_or_path: str | Path) -> str | None:
    """The bare name ``name_or_path`` could be (``"sobol"`` or ``"sobol.toml"``), else None."""
    text = str(name_or_path)
    if not text or "/" in text or "\\" in text or text.startswith("."):
        return None
    return text[:-5] if text.endswith(".toml") else text


def find(name_or_path: str | Path, package: str, folder: str) -> Path | None:
    """An existing file, else the shipped file of that name, else None."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    name = shipped_name(name_or_path)
    return shipped(package, folder).get(name) if name else None


def resolve(name_or_path: str | Path, package: str, folder: str, what: str) -> Path:
    """Like :func:`find`, but a miss is a one-line error listing the shipped names."""
    found = find(name_or_path, package, folder)
    if found is None:
        names = sorted(shipped(package, folder))
        hint = did_you_mean(shipped_name(name_or_path) or "", names)
        raise LasimInputError(f"{name_or_path}: no such {what} file{hint} "
                              f"(shipped {what}s: {', '.join(names) or 'none'})")
    return found
