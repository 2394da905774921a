"""Derive a scenario's calibrated parameter values from a calibration.

The default scenario's behavioural rates (the parameters ``seed_patterns.toml``
calibrates) must come from the shipped calibration, not from hand-set
numbers. This script reads a calibration directory (its
``posterior_summary.csv``, written by ``lasim calibrate``) and prints, or writes
into a scenario TOML file, the posterior median (or mean) of each calibrated
parameter::

    python -m calibration.defaults CALIBRATION_DIR                 # print
    python -m calibration.defaults CALIBRATION_DIR --scenario model/scenarios/default.toml --write

With ``--write`` only the calibrated parameters' lines in ``[parameters]`` are
changed (comments and every other line are kept), and a comment above each
says where its value came from. Integer parameters are rounded.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from experiments.files import atomic_write_text
from model.errors import LasimInputError, did_you_mean
from model.scenario import parameter_specs

STATISTICS = ("median", "mean")
_MARK = "# calibrated:"


def derive_defaults(calibration: str | Path, statistic: str = "median") -> dict[str, float]:
    """Posterior ``statistic`` (median or mean) of every calibrated parameter, by name.

    Raises
    ------
    LasimInputError
        Not a calibration directory, or an unknown statistic.
    """
    if statistic not in STATISTICS:
        raise LasimInputError(
            f"--statistic: {statistic!r} is not one of {', '.join(STATISTICS)}"
        )
    path = Path(calibration) / "posterior_summary.csv"
    if not path.is_file():
        raise LasimInputError(
            f"{calibration}: no posterior_summary.csv (run lasim calibrate with --out there first)"
        )
    table = pd.read_csv(path)
    return {str(r["parameter"]): float(r[statistic]) for _, r in table.iterrows()}


def _origin(calibration: Path, statistic: str) -> str:
    try:
        meta = json.loads((calibration / "calibration.json").read_text(encoding="utf-8"))
        cfg = meta["config"]
        commit = meta.get("provenance", {}).get("git_commit", "unknown")
        return (
            f"posterior {statistic} of {Path(cfg['targets_file']).name}, seed {cfg['seed']}, "
            f"population {cfg['population']}, commit {commit}"
        )
    except (OSError, ValueError, KeyError):
        return f"posterior {statistic} of {calibration.name}"


def apply_defaults(
    text: str,
    values: Mapping[str, float],
    origin: str,
    integer: Mapping[str, bool] | None = None,
) -> str:
    """``text`` (a scenario TOML) with the ``[parameters]`` values replaced.

    A parameter missing from ``[parameters]`` is added at the end of that table.
    """
    lines = text.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.strip() == "[parameters]")
    except StopIteration:
        raise LasimInputError("scenario: no [parameters] table to write the values into") from None
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")),
        len(lines),
    )
    body = [ln for ln in lines[start + 1 : end] if not ln.startswith(_MARK)]
    done = set()
    for name, value in values.items():
        v = str(int(round(value))) if integer and integer.get(name) else repr(float(value))
        pattern = re.compile(rf"^\s*{re.escape(name)}\s*=")
        new = [f"{_MARK} {origin}", f"{name} = {v}"]
        for i, ln in enumerate(body):
            if pattern.match(ln):
                body[i : i + 1] = new
                done.add(name)
                break
        else:
            while body and not body[-1].strip():
                body.pop()
            body += new
            done.add(name)
    tail = lines[end:]
    if tail and body and body[-1].strip():
        body.append("")
    return "\n".join(lines[: start + 1] + body + tail) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m calibration.defaults``."""
    p = argparse.ArgumentParser(
        prog="python -m calibration.defaults",
        description="Print or write a scenario's calibrated parameters from a calibration.",
    )
    p.add_argument("calibration", type=Path, help="a lasim calibrate output directory")
    p.add_argument("--statistic", default="median", help="median (default) or mean")
    p.add_argument("--scenario", type=Path, help="scenario TOML file to write the values into")
    p.add_argument("--write", action="store_true", help="rewrite --scenario in place")
    args = p.parse_args(argv)
    try:
        values = derive_defaults(args.calibration, args.statistic)
        origin = _origin(args.calibration, args.statistic)
        if args.write and args.scenario is None:
            raise LasimInputError("--write: needs --scenario FILE")
        if args.scenario is None:
            print(f"{_MARK} {origin}")
            for k, v in values.items():
                print(f"{k} = {v!r}")
            return 0

        specs = parameter_specs()
        unknown = [k for k in values if k not in specs]
        if unknown:
            raise LasimInputError(f"{args.calibration}: unknown parameter {unknown[0]!r}"
                                  f"{did_you_mean(unknown[0], specs)}")
        text = apply_defaults(
            args.scenario.read_text(encoding="utf-8"),
            values,
            origin,
            {k: bool(specs[k].integer) for k in values},
        )
        if args.write:
            atomic_write_text(args.scenario, text)
            print(f"wrote {', '.join(values)} into {args.scenario} ({origin})")
        else:
            print(text, end="")
        return 0
    except (LasimInputError, OSError) as exc:
        print(f"calibration.defaults: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
