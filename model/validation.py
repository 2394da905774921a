"""One formatter for every file a user writes: a pydantic ValidationError as one line.

Scenarios (``model.scenario``), sweep specs (``experiments.spec``) and calibration
targets (``calibration.targets``) are pydantic models; each turns the first error
of a failed validation into ``<source>: <field> = <value>: <what is allowed>``
with :func:`format_validation_error`, so a user reads the same kind of line
whichever file was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, Field, ValidationError

from .errors import did_you_mean

#: A number a user writes: inf and nan are refused (a field's own bounds still apply).
Finite = Annotated[float, Field(allow_inf_nan=False)]

#: A file-specific rule: ``(error, dotted location) -> line after the source``, or None for the generic one.
Special = Callable[[dict[str, Any], str], "str | None"]


def error_location(err: dict[str, Any]) -> list[str]:
    """The parts of a pydantic error location a user wrote (validator wrappers left out)."""
    return [str(p) for p in err["loc"]
            if not str(p).startswith(("function-after", "function-before", "function-wrap"))
            and str(p) != "[key]"]


def format_validation_error(exc: ValidationError, source: str, root: type[BaseModel], *,
                            prefix: str = "", special: Special | None = None,
                            locate: Callable[[list[str]], str] | None = None) -> str:
    """The first error of ``exc`` as one line: source, field, value and what is allowed.

    Parameters
    ----------
    exc
        The error from validating ``root`` (or a part of it, named by ``prefix``).
    source
        The file or option the data came from; starts the line.
    root
        The model validated: an unknown field is answered with the fields allowed
        at that place in it (and the closest one).
    prefix
        Where in ``root`` the validated part sits (``"parameters"`` for a scenario's
        parameter table validated alone).
    special
        A rule of the file's own, tried first (a scenario names a parameter's unit
        and range).
    locate
        How the file names a location (a targets file says ``targets[0] (P1)``
        where pydantic says ``targets.0``); default: the parts joined by dots.
    """
    err = exc.errors(include_url=False)[0]
    parts = [*([prefix] if prefix else []), *error_location(err)]
    loc = ".".join(parts)
    shown_loc = locate(parts) if locate is not None else loc
    if special is not None:
        line = special(err, loc)
        if line is not None:
            return f"{source}: {line}"
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        allowed = fields_at(root, parts[:-1])
        return f"{source}: unknown field {shown_loc!r}{did_you_mean(parts[-1], allowed)}; allowed here: " \
               f"{', '.join(allowed)}"
    if err["type"] == "missing":
        return f"{source}: missing field {shown_loc!r}"
    if err["type"] == "literal_error":  # a name from a fixed list: a stakeholder kind, a level, a method
        allowed = re.findall(r"'([^']*)'", str(err.get("ctx", {}).get("expected", "")))
        msg += did_you_mean(err.get("input"), allowed)
    if err["type"] in ("model_type", "model_attributes_type", "dict_type"):
        msg = "must be a table"  # not pydantic's "instance of <class>": the user never sees our classes
    value = err.get("input")
    shown = f" = {value!r}" if value is not None and not isinstance(value, dict) else ""
    if msg.startswith(f"{loc}.") or msg.startswith(f"{loc} ="):  # the validator named the field and its value
        return f"{source}: {shown_loc}{msg[len(loc):]}"
    if parts and (msg.startswith(f"{parts[-1]}.") or msg.startswith(f"{parts[-1]} =")):
        # named relative to its parent (``set.warp: ...`` from the ``set`` field)
        parent = locate(parts[:-1]) if locate is not None else ".".join(parts[:-1])
        return f"{source}: {'.'.join(x for x in (parent, msg) if x)}"
    where = f"{shown_loc}{shown}: " if loc else ""
    return f"{source}: {where}{msg}"


def _unwrap(t: Any) -> Any:
    while get_origin(t) is Annotated or get_origin(t) in (Union, UnionType):
        t = [a for a in get_args(t) if a is not type(None)][0]
    return t


def fields_at(root: type[BaseModel], path: list[str]) -> list[str]:
    """Field names allowed at ``path`` (a pydantic error location) inside ``root``."""
    t: Any = root
    for part in path:
        t = _unwrap(t)
        if isinstance(t, type) and issubclass(t, BaseModel):
            if part not in t.model_fields:
                return []
            t = t.model_fields[part].annotation
        elif get_origin(t) in (list, tuple):
            t = get_args(t)[0]
        elif get_origin(t) is dict:
            t = get_args(t)[1]
        else:
            return []
    t = _unwrap(t)
    if get_origin(t) is dict and isinstance(get_args(t)[1], type) and issubclass(get_args(t)[1], BaseModel):
        t = get_args(t)[1]
    return list(t.model_fields) if isinstance(t, type) and issubclass(t, BaseModel) else []
