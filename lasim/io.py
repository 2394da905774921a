"""Moved to :mod:`experiments.files` (the bottom of the layers that write results).

Kept as an alias for code written against the old place; new code imports
``experiments.files``.
"""

from experiments.files import atomic_write, atomic_write_json, atomic_write_text

__all__ = ["atomic_write", "atomic_write_json", "atomic_write_text"]
