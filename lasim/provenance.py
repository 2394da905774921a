"""Moved to :mod:`experiments.files`; kept as an alias for code written against the old place."""

from experiments.files import git_commit, provenance

__all__ = ["git_commit", "provenance"]
