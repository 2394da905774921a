"""Write a ``lasim validate`` result into docs/calibration.md's "Measured" section.

The documented verdict must be the one a run produced, so the section between
the markers ``<!-- validation:start -->`` and ``<!-- validation:end -->`` is
generated from ``validation.json``, never typed::

    lasim validate --out runs/validation
    python -m calibration.validation_docs runs/validation            # rewrites docs/calibration.md

Re-run both after any change that can move the verdict (the model, the
targets, the calibration modules, or the pinned library versions): the
section names the commit, the code digest and the library versions it came from.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.files import atomic_write_text
from model.errors import LasimInputError

from .validation import PATTERN_SHARE, RECOVERY_LEVEL

START, END = "<!-- validation:start -->", "<!-- validation:end -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "calibration.md"


def _recovery_lines(details: dict[str, Any], level: float) -> list[str]:
    """Check 2's intervals value by value, and how often exact intervals would all hold."""
    cells, n = [], 0
    for case in details.get("cases", []):
        for name, short in (("external_influence", "p"), ("imitation", "q")):
            if f"{name}_true" not in case:
                continue
            n += 1
            where = "inside" if case[f"{name}_inside"] else "**outside**"
            cells.append(f"case {case['case']} {short} = {case[f'{name}_true']:g} {where} "
                         f"[{case[f'{name}_low']:.3g}, {case[f'{name}_high']:.3g}]")
    if not cells:
        return []
    return ["", f"Check 2, each true value against its {level:.0%} posterior interval: " + "; ".join(cells)
            + f". Were every interval exact, all {n} would hold together with chance "
            f"{level:.0%}^{n} = {level ** n:.0%}."]


def _failing_draws_lines(check: dict[str, Any], draws: Any, share: float) -> list[str]:
    """For each pattern of a check below ``share``: mean parameters of failing vs holding draws."""
    shares = check["details"].get("shares") or {}
    # the calibrated parameters: the columns that are neither a pattern nor one of its parts
    params = [] if draws is None else [c for c in draws.columns if ":" not in c and c not in shares]
    cells = []
    for name, got in shares.items():
        col = f"{name}:holds"
        if got is None or got >= share or draws is None or col not in draws or not params:
            continue
        held = draws[col].astype(bool)
        if held.all() or not held.any():
            continue
        means = ", ".join(f"{p} {draws.loc[~held, p].mean():.3g} vs {draws.loc[held, p].mean():.3g}"
                          for p in params if p in draws)
        cells.append(f"{name} fails in {int((~held).sum())} draws ({means})")
    if not cells:
        return []
    return ["", f"Check {check['number']}, mean parameters of the draws where a pattern fails vs those "
                "where it holds: " + "; ".join(cells) + "."]


def render_section(result: dict[str, Any], folder: Path | None = None) -> str:
    """The markdown of one ``validation.json`` (``folder``: its directory, for the per-draw CSVs)."""
    prov = result.get("provenance", {})
    code = result.get("code", {})
    minutes, seconds = divmod(int(round(result.get("elapsed_s", 0))), 60)
    versions = ", ".join(f"{k} {v}" for k, v in code.items() if k != "sources_sha256")
    verdict = "PASS" if result["passed"] else "FAIL"
    lines = [
        START,
        f"`lasim validate --seed {result['seed']}` on {result.get('workers', '?')} worker(s): "
        f"**overall {verdict}** in {minutes} min {seconds} s"
        + (" (`--quick`: a smoke test, not the validation)" if result.get("quick") else "")
        + ".",
        "",
        f"lasim {prov.get('lasim_version', '?')}, commit {prov.get('git_commit', '?')}, "
        f"sources digest {code.get('sources_sha256', '?')}, {versions}, Python "
        f"{prov.get('python', '?')}, run {prov.get('created', '?')}.",
        "",
        "| check | measured | criterion | result |",
        "|---|---|---|---|",
    ]
    for c in result["checks"]:
        lines.append(
            f"| {c['number']} {c['name']} | {c['measured']} | {c['criterion']} | "
            f"{'PASS' if c['passed'] else 'FAIL'} |"
        )
    for c in result["checks"]:
        if c["number"] == 2:
            lines += _recovery_lines(c["details"], RECOVERY_LEVEL)
    for c in result["checks"]:
        shares = c["details"].get("shares")
        if not shares:
            continue
        intervals = c["details"].get("intervals95", {})
        missing = c["details"].get("not_computable", {})
        lines += ["", f"Check {c['number']}, share of posterior draws in which each pattern "
                      "holds (Wilson 95% interval):", ""]
        cells = []
        for name, share in shares.items():
            if share is None:
                cells.append(f"{name}: not computable ({missing.get(name, '')})")
            elif name in intervals and intervals[name]:
                lo, hi = intervals[name]
                cells.append(f"{name} {share:.0%} [{lo:.0%}, {hi:.0%}]")
            else:
                cells.append(f"{name} {share:.0%}")
        lines.append("; ".join(cells) + ".")
        draws = _read_draws(folder, c["number"])
        lines += _failing_draws_lines(c, draws, PATTERN_SHARE)
    lines.append(END)
    return "\n".join(lines)


def _read_draws(folder: Path | None, number: int) -> Any:
    # check 3 and 4 write one row per posterior draw (parameters, then each pattern's
    # measure and whether it holds)
    name = {3: "check3_patterns.csv", 4: "check4_heldout.csv"}.get(number)
    if folder is None or name is None or not (folder / name).is_file():
        return None
    return pd.read_csv(folder / name)


def update_doc(text: str, section: str) -> str:
    """``text`` with the generated section replaced (or appended when absent)."""
    if START in text and END in text:
        a, b = text.index(START), text.index(END) + len(END)
        return text[:a] + section + text[b:]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m calibration.validation_docs VALIDATION_DIR [--doc FILE]``."""
    p = argparse.ArgumentParser(prog="python -m calibration.validation_docs",
                                description="Write a validation result into docs/calibration.md.")
    p.add_argument("validation", type=Path, help="the --out directory of lasim validate")
    p.add_argument("--doc", type=Path, default=DOC, help="the markdown file to update")
    args = p.parse_args(argv)
    try:
        path = args.validation / "validation.json"
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LasimInputError(f"{path}: cannot read ({exc})") from None
        doc = args.doc.read_text(encoding="utf-8")
        atomic_write_text(args.doc, update_doc(doc, render_section(result, args.validation)))
        print(f"wrote the validation of {path} into {args.doc}")
        return 0
    except LasimInputError as exc:
        print(f"calibration.validation_docs: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
