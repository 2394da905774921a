"""Errors a user can cause, reported as one line by the CLI (exit code 2)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LasimInputError(ValueError):
    """Bad input from a user: a scenario file, a parameter, a spec or a CLI argument.

    The message is a single line naming the source, the field, the value and
    what is allowed; the CLI prints it without a traceback and exits with 2.
    """


class ScenarioError(LasimInputError):
    """A scenario file or parameter override that cannot be used."""


def did_you_mean(name: object, allowed: Iterable[str]) -> str:
    """``" (did you mean 'scaled'?)"`` for the allowed name closest to ``name``, or ``""``.

    The one hint of every "unknown name" message (scenario, spec, design, targets,
    parameter, outcome, mechanism, stakeholder kind, sub-command). A name that is
    the start of an allowed one ("facilitation") is a better hint than the closest
    spelling.
    """
    allowed = [str(a) for a in allowed]
    text = str(name)
    close = [a for a in allowed if text and a.startswith(text)][:1] or difflib.get_close_matches(text, allowed, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
