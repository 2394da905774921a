"""Every sub-command ends quietly when its reader leaves (``lasim ... | head -1``)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from lasim.cli import build_parser

LASIM = Path(sys.executable).parent / "lasim"
REPO = Path(__file__).resolve().parent.parent


def _subcommands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return list(sub.choices)


@pytest.mark.slow
def test_every_subcommand_piped_into_head_has_empty_stderr(tmp_path):
    commands = [["--help"], ["show", "default"], ["scenarios"], *([c, "--help"] for c in _subcommands())]
    # `true` leaves before anything is written: the harshest reader (`head -1` may leave after
    # lasim has written everything into the pipe's buffer, and then nothing fails)
    lasim = shlex.quote(str(LASIM))
    script = "\n".join(f"{lasim} {shlex.join(c)} | true" for c in commands)
    script += f"\n{lasim} show default | head -1 > /dev/null"
    env = os.environ | {"PYTHONPATH": str(REPO)}
    proc = subprocess.run(["bash", "-c", "set -o pipefail; status=0\n"
                           + script.replace("\n", " || status=1\n") + " || status=1\nexit $status"],
                          env=env, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert proc.stderr == ""
    assert proc.returncode == 0


def test_an_interrupt_caught_from_a_string_exec_still_exits_with_the_code(tmp_path):
    # CPython 3.12 under `python -m` kills itself with SIGINT at exit after a KeyboardInterrupt
    # ended a string exec, even a caught one; lasim.cli.main clears that mark on the way out
    (tmp_path / "interrupted_exec.py").write_text(
        "import sys\n"
        "from lasim.cli import _forget_interrupted_string_eval\n"
        "try:\n"
        "    exec('raise KeyboardInterrupt')\n"
        "except KeyboardInterrupt:\n"
        "    pass\n"
        "_forget_interrupted_string_eval()\n"
        "sys.exit(7)\n"
    )
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "interrupted_exec"], cwd=tmp_path, capture_output=True, text=True,
                          env={"PYTHONPATH": f"{tmp_path}:{root}", "PATH": "/usr/bin:/bin"}, timeout=120)
    assert done.returncode == 7, done.stderr[-2000:]
