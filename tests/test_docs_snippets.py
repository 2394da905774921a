"""Every snippet of README.md and the docs works against the code as it is.

``python`` blocks are executed (in a scratch directory; where a block would take
minutes, named literal sizes are shrunk, and the test fails if the text it
shrinks is no longer there). Every ``lasim`` command line of a shell block is
parsed by the real command-line parser, and the shipped names it uses (scenarios,
specs, designs, targets) must load.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from lasim.cli import build_parser

REPO = Path(__file__).resolve().parent.parent
DOCS = ["README.md", *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md")),
        "experiments/README.md", "benchmarks/README.md"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
SHELL = {"", "bash", "sh", "shell", "console"}

#: (file, first line of the block) -> literal substitutions that make a long block quick.
SHRINK = {
    ("docs/calibration.md", "from calibration.targets import load_targets"): [
        ("population=40, generations=4", "population=10, generations=2"),
        ('write_outputs("fit", targets, sim)', 'write_outputs("fit", targets, sim, draws=4)'),
    ],
}
#: Blocks that run sweeps run them with the toy run function of the experiment tests (microseconds a run).
TOY_ENV = {"LASIM_RUN_FUNCTION": "xp_fakes:toy_run"}


def _blocks(langs: set[str]) -> list[tuple[str, int, str]]:
    out = []
    for name in DOCS:
        text = (REPO / name).read_text()
        for m in FENCE.finditer(text):
            if m.group(1) in langs:
                out.append((name, text[:m.start()].count("\n") + 1, m.group(2)))
    return out


PYTHON = _blocks({"python"})
SHELL_BLOCKS = _blocks(SHELL)


def _commands() -> list[tuple[str, int, list[str]]]:
    """``lasim`` command lines of the shell blocks, as argument lists (up to a pipe, redirect or comment)."""
    found = []
    for name, start, body in SHELL_BLOCKS:
        for k, line in enumerate(body.splitlines()):
            line = re.sub(r"^\$ ", "", line.strip())
            line = re.sub(r"^(\S*/)?\.venv/bin/", "", line)
            if not line.startswith("lasim "):
                continue
            if "[" in line:  # a usage synopsis: "[--processes N | --workers N]" is not a pipe
                argv = line.split(" #")[0].split()
            else:
                lex = shlex.shlex(line, posix=True, punctuation_chars="|&;<>")
                lex.whitespace_split = True
                lex.commenters = "#"
                argv = []
                for tok in lex:
                    if set(tok) <= set("|&;<>"):
                        break
                    argv.append(tok)
            if argv[1].endswith(":"):  # output shown in the docs ("lasim benchmark: ..."), not a command
                continue
            found.append((name, start + 1 + k, argv[1:]))
    return found


COMMANDS = _commands()


def test_the_docs_have_snippets():
    assert len(PYTHON) >= 3 and len(COMMANDS) >= 20


@pytest.mark.slow
@pytest.mark.parametrize("name,line,code", PYTHON, ids=[f"{n}:{ln}" for n, ln, _ in PYTHON])
def test_python_snippet_runs(name, line, code, tmp_path):
    first = code.splitlines()[0]
    for old, new in SHRINK.get((name, first), []):
        assert old in code, f"{name}:{line}: the block no longer says {old!r}; update SHRINK"
        code = code.replace(old, new)
    env = os.environ | TOY_ENV | {"PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests" / "experiments")]),
                                  "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"{name}:{line}:\n{proc.stderr[-3000:]}"


def test_readme_events_comment_matches_the_code():
    from model import AllianceModel
    from model.alliance import Event

    m = AllianceModel("default", rng=42, facilitation_quality=0.4).run()
    readme = (REPO / "README.md").read_text()
    comment = re.search(r"^m\.events\[:5\]\s+# (.*)$", readme, re.M).group(1)
    first = m.events[0]
    assert isinstance(first, Event)
    assert comment.startswith(f"[Event(month={first.month}, kind={first.kind!r}, text='{first.text[:20]}")
    shown = re.search(r"^print\(\*m\.events\[:5\], sep=\"\\n\"\)\s+# (.*?)( \.\.\.)?$", readme, re.M).group(1)
    assert shown == str(first)


def _subparsers():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return parser, sub.choices


def _is_shipped_name(value: str) -> bool:
    return bool(value) and "/" not in value and not value.endswith(".toml") and not value.isupper()


def _check_names(argv: list[str], args) -> None:
    """Shipped names in a parsed command must load (files a reader makes are not checked)."""
    from calibration.targets import load_targets
    from experiments.compare import load_designs
    from experiments.spec import load_spec
    from model.scenario import load_scenario

    loaders = {"scenario": load_scenario, "spec": load_spec, "targets": load_targets}
    for dest, load in loaders.items():
        value = getattr(args, dest, None)
        if isinstance(value, str) and _is_shipped_name(value):
            load(value)
    designs = getattr(args, "designs", None)
    if designs and all(_is_shipped_name(d) for d in designs):
        load_designs(designs)


@pytest.mark.parametrize("name,line,argv", COMMANDS, ids=[f"{n}:{ln}" for n, ln, _ in COMMANDS])
def test_shell_command_parses(name, line, argv):
    parser, subs = _subparsers()
    where = f"{name}:{line}: lasim {shlex.join(argv)}"
    if argv[0] in ("--help", "-h", "--version"):
        return
    assert argv[0] in subs, f"{where}: no sub-command {argv[0]!r}"
    sub = subs[argv[0]]
    flags = {s for a in sub._actions for s in a.option_strings}
    named = [t.strip("[]|") for t in argv if t.strip("[]").startswith("-")]
    unknown = [f.split("=")[0] for f in named if f.split("=")[0] not in flags]
    assert not unknown, f"{where}: lasim {argv[0]} has no option {unknown}"
    if any("[" in t or "|" in t for t in argv):
        return  # a usage synopsis ("[--boxes 2]", "a.csv|b.parquet"): the options are checked above
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        pytest.fail(f"{where}: the parser refuses it (exit {exc.code})")
    _check_names(argv, args)
