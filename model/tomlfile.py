"""Reading a TOML file a user wrote: one line for every way it cannot be read."""

from __future__ import annotations

import tomllib
from typing import Any

from .errors import LasimInputError


def parse_toml(text: str, source: str, error: type[LasimInputError] = LasimInputError) -> dict[str, Any]:
    """Parse TOML ``text`` read from ``source``; a malformed or absurdly deep file is one line.

    Raises
    ------
    LasimInputError
        (or ``error``) naming ``source`` and what is wrong.
    """
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{source}: malformed TOML ({exc})") from None
    except RecursionError:
        # tomllib recurses once per level of nesting; no lasim file is nested more than a few levels
        raise error(f"{source}: nested thousands of levels deep; a lasim file is nested a few levels at most") from None
