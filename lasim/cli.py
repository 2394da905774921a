"""The ``lasim`` command: one entry point, sub-commands registered by the layers.

Each sub-command lives next to the code it drives (``experiments.cli``,
``calibration.cli``, ...) and exposes ``register(subparsers)``; this module only
dispatches, so importing it stays cheap and ``model`` never learns about the
layers above it.
"""

from __future__ import annotations

import argparse
import atexit
import importlib
import os
import signal
import sys
from collections.abc import Sequence

from . import __version__

# Modules that may add sub-commands; a module that is missing (an optional extra
# not installed, or not written yet) is skipped so the rest of the CLI still works.
COMMAND_MODULES = (
    "lasim.commands",
    "experiments.cli",
    "calibration.cli",
    "lasim.explorer.cli",
    "experiments.compare_cli",
    "lasim.knockout_cli",
    "lasim.optimise_cli",
)


#: Packages of the optional extras -> the extra that installs them: a command that needs
#: one that is missing says which extra to install, in one line (not a traceback).
EXTRA_OF = {
    "pyabc": "calibration", "cloudpickle": "calibration", "ema_workbench": "discovery", "solara": "app",
    "altair": "app", "dask": "cluster", "distributed": "cluster", "optuna": "optimise",
}


_interrupted = False


def _ignore_late_ctrl_c() -> None:
    # Registered when this module is imported, before multiprocessing and the pools
    # register theirs, so it runs last of the exit handlers (they run in reverse).
    # After the exit handlers the interpreter resets Python-level signal handlers to
    # the default, and a Ctrl-C then killed the process with SIGINT (exit -2, seen on
    # a loaded machine); an ignored signal is left ignored, so it still exits 130.
    if _interrupted:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


atexit.register(_ignore_late_ctrl_c)


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line with exit code 2 (its default code)."""

    def error(self, message: str) -> None:  # noqa: D401
        self.exit(2, f"lasim: error: {message}\n")

    def _check_value(self, action: argparse.Action, value: object) -> None:
        # argparse's own message lists the choices; a typo ('rn') also gets the closest one
        if action.choices is not None and value not in action.choices:
            from model.errors import did_you_mean

            choices = [str(c) for c in action.choices]
            raise argparse.ArgumentError(
                action, f"invalid choice: {value!r}{did_you_mean(value, choices)} (choose from {', '.join(choices)})")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="lasim", description="Simulate how innovations scale through learning alliances.")
    parser.add_argument("--version", action="version", version=f"lasim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (exc.name == name or name.startswith(exc.name + ".")):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every way it can end is one line and an exit code, never a traceback.

    Ctrl-C can arrive while the layers are still being imported (a second or two
    on a loaded machine), so even the imports happen inside the handlers.
    """
    global _interrupted
    try:
        code = _main(argv)
        # a reader that left (`| head`) shows at this flush when the output fit the buffer
        sys.stdout.flush()
        return code
    except KeyboardInterrupt:
        # a further Ctrl-C while the interpreter shuts down (workers joined, exit handlers
        # run) must end the same way and at once: by default it raised KeyboardInterrupt
        # out of an exit handler and the process died of SIGINT (exit -2), not 130
        _interrupted = True
        signal.signal(signal.SIGINT, lambda *_: os._exit(130))
        print("lasim: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `lasim results DIR | head`: the reader left; stop quietly, like other tools.
        # Point stdout at /dev/null so the interpreter's final flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    finally:
        _forget_interrupted_string_eval()


def _forget_interrupted_string_eval() -> None:
    # CPython 3.12 marks a KeyboardInterrupt that ended code run by a string exec or eval
    # (dataclasses, numba and SQLAlchemy make functions that way) as unhandled, even once a
    # caller has caught it; under `python -m lasim.cli` the interpreter then kills itself
    # with SIGINT at exit (status -2, not the command's 130: about one Ctrl-C in four in a
    # calibration, tests/calibration/test_calibration_end_to_end.py). Every string eval
    # clears that mark when it starts (Python/pythonrun.c run_eval_code_obj, Modules/main.c
    # Py_RunMain); the `lasim` script is not affected.
    eval("0")  # noqa: S307 - a constant string, for the side effect above


def _main(argv: Sequence[str] | None) -> int:
    # imported here, not at the top: model/__init__ imports Mesa and SciPy, and a
    # Ctrl-C during that must end in main's handler (see docs/ARCHITECTURE.md, Imports)
    from model.errors import LasimInputError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except LasimInputError as exc:
        print(f"lasim: error: {exc}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as exc:
        extra = EXTRA_OF.get((exc.name or "").split(".")[0])
        if extra is None:
            raise
        print(f"lasim: error: {args.command} needs {exc.name}, which is not installed: "
              f"pip install -c constraints.txt -e '.[{extra}]'", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
