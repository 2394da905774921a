"""Ctrl-C during a numba compilation is held until the compilation ends.

A KeyboardInterrupt raised while numba compiles (the first run on a fresh install
compiles every kernel for about 17 s) lands at whatever Python line of numba's
compiler was running. Measured on a fresh clone, interrupting ``lasim calibrate``
there either lost the Ctrl-C (the calibration ran on and exited 0) or left LLVM's
objects half freed (``free(): double free detected``, exit -6). So while numba holds
its compiler lock, a Ctrl-C in the main thread is only noted, and delivered to the
handler that was in place once the lock is released: the user waits for the
compilation to finish (seconds) and then gets the normal interruption.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from numba.core import event


class _HoldCtrlC(event.Listener):
    """Listener of numba's ``numba:compiler_lock`` events (nested: the lock is re-entrant)."""

    def __init__(self) -> None:
        self.depth = 0
        self.pending = False
        self.previous: Any = None

    def _note(self, signum: int, frame: Any) -> None:  # noqa: ARG002
        if not self.pending:
            print("lasim: stopping once the compilation in progress ends (the first run after an "
                  "install compiles the model)", file=sys.stderr, flush=True)
        self.pending = True

    def on_start(self, ev: event.Event) -> None:  # noqa: ARG002
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread receives signals (and may set handlers)
        if self.depth == 0:
            current = signal.getsignal(signal.SIGINT)
            # an ignored or default (kill) Ctrl-C needs no holding
            if not callable(current):
                return
            self.previous, self.pending = current, False
            signal.signal(signal.SIGINT, self._note)
        self.depth += 1

    def on_end(self, ev: event.Event) -> None:  # noqa: ARG002
        if threading.current_thread() is not threading.main_thread() or self.depth == 0:
            return
        self.depth -= 1
        if self.depth == 0:
            signal.signal(signal.SIGINT, self.previous)
            self.previous = None
            if self.pending:
                self.pending = False
                signal.raise_signal(signal.SIGINT)


_LISTENER = _HoldCtrlC()
_installed = False


def install() -> None:
    """Hold Ctrl-C during numba compilations from now on (once per process)."""
    global _installed
    if not _installed:
        event.register("numba:compiler_lock", _LISTENER)
        _installed = True
