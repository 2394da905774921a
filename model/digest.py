"""A digest of the model's sources: what a stored result must have been made with to be reused."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

_ROOT = Path(__file__).resolve().parent


@cache
def model_digest() -> str:
    """First 16 hex digits of a SHA-256 over the model's Python files and shipped scenarios.

    Two checkouts whose model code and scenarios are the same give the same digest,
    whatever else differs (docs, tests, the command line).
    """
    h = hashlib.sha256()
    for f in sorted(p for p in _ROOT.rglob("*") if p.suffix in (".py", ".toml") and "__pycache__" not in p.parts):
        h.update(f.relative_to(_ROOT).as_posix().encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]
