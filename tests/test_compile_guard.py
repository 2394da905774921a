"""A Ctrl-C while numba compiles is held until the compilation ends (model.compile_guard)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A fresh (uncached) kernel; a second listener sends the process a Ctrl-C the moment
# numba starts compiling it, so the signal lands inside the compilation every time.
CHILD = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from numba import njit
    from numba.core import event
    {guard}

    class CtrlCAtStart(event.Listener):
        def on_start(self, ev):
            os.kill(os.getpid(), signal.SIGINT)
        def on_end(self, ev):
            pass

    event.register("numba:compile", CtrlCAtStart())

    @njit
    def kernel(x):
        total = 0.0
        for i in range(x.shape[0]):
            total += np.sqrt(x[i]) * np.exp(-x[i])
        return total

    try:
        kernel(np.ones(3))
        print("not interrupted")
    except KeyboardInterrupt:
        print("interrupted; compiled:", len(kernel.signatures))
    print("handler restored:", signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    print("runs:", kernel(np.ones(4)) > 0)
""")


def _child(guard: str) -> subprocess.CompletedProcess:
    # the child starts with Ctrl-C's default action, as from a terminal: a test run started
    # as a background job inherits an ignored SIGINT, and Python keeps an ignored SIGINT
    # ignored (no KeyboardInterrupt, nothing for the guard to hold)
    return subprocess.run([sys.executable, "-c", CHILD.format(guard=guard)], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=120,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def test_ctrl_c_during_a_compilation_is_delivered_once_it_has_finished():
    done = _child("import model  # installs the guard")
    assert done.returncode == 0, done.stderr[-2000:]
    # the Ctrl-C still interrupts, but only after the kernel is compiled and in numba's table
    assert "interrupted; compiled: 1" in done.stdout
    assert "handler restored: True" in done.stdout and "runs: True" in done.stdout
    assert "stopping once the compilation in progress ends" in done.stderr
    assert done.stderr.count("lasim: stopping") == 1


def test_an_ignored_ctrl_c_stays_ignored_while_compiling():
    done = _child("import model, signal; signal.signal(signal.SIGINT, signal.SIG_IGN)")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "not interrupted" in done.stdout and "lasim: stopping" not in done.stderr
