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

from experiments.files import atomic_write_text
from model.errors import LasimInputError

START, END = "<!-- validation:start -->", "<!-- validation:end -->"
DOC = Path(__file__).resolve().parent.parent / "docs" / "calibration.md"


def render_section(result: dict[str, Any]) -> str:
    """The markdown of one ``validation.json``."""
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
    lines.append(END)
    return "\n".join(lines)


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
        atomic_write_text(args.doc, update_doc(doc, render_section(result)))
        print(f"wrote the validation of {path} into {args.doc}")
        return 0
    except LasimInputError as exc:
        print(f"calibration.validation_docs: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
