"""Render the explorer page in Solara's virtual kernels, without a browser (run in a subprocess).

Solara patches ipywidgets process-wide, so tests run this file with ``python``
in a fresh process: ``python tests/explorer_harness.py <check> [args]``; it
prints one JSON line.
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from typing import Any


def _setup() -> None:
    import os

    from lasim.explorer.server import SCENARIO_ENV, configure_environment

    configure_environment(os.environ.get(SCENARIO_ENV))
    import solara.server.app  # noqa: F401 -- applies Solara's per-kernel widget patches


def _session(i: int, play: bool, inspect: Any = None) -> Any:
    import ipyvuetify as v
    import solara
    import solara.server.kernel as kernel_mod
    import solara.server.kernel_context as kc

    from lasim.explorer.page import Page

    ctx = kc.VirtualKernelContext(id=f"k{i}", session_id=f"s{i}", kernel=kernel_mod.Kernel())
    kc.contexts[ctx.id] = ctx
    out = None
    with ctx:
        _, rc = solara.render(Page(), handle_error=False)
        ctx.app_object = rc
        if play:
            rc.find(v.Btn, children=["Play"]).widget.click()
            time.sleep(0.25)
        if inspect is not None:
            out = inspect(list(ctx.widgets.values()))
    ctx.close()
    return out


def _states(widgets: list[Any]) -> list[dict[str, Any]]:
    out = []
    for w in widgets:
        state = w.get_state()
        out.append({k: v for k, v in state.items() if isinstance(v, (str, list))})
    return out


def _resident_bytes() -> int:
    """Resident memory after a full collection, with free heap memory handed back to the system."""
    import ctypes
    import os

    gc.collect()
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def leak(sessions: int, traced: bool = False) -> dict[str, Any]:
    """Memory kept per closed session after collection, and models still alive.

    ``traced``: count Python allocations (tracemalloc, exact but about five times
    slower) instead of resident memory after ``malloc_trim``.
    """
    from model.alliance import AllianceModel

    for i in range(3):  # warm-up: caches, imports, compiled kernels
        _session(1000 + i, play=True)
    if traced:
        tracemalloc.start()
    time.sleep(0.5)
    base = tracemalloc.get_traced_memory()[0] if traced else _resident_bytes()
    for i in range(sessions):
        _session(i, play=True)
    time.sleep(0.5)
    gc.collect()
    grown = (tracemalloc.get_traced_memory()[0] if traced else _resident_bytes()) - base
    alive = sum(isinstance(o, AllianceModel) for o in gc.get_objects())
    return {"per_session_mb": grown / sessions / 1e6, "models_alive": alive,
            "measure": "tracemalloc" if traced else "resident after malloc_trim"}


def texts() -> dict[str, Any]:
    """The plain texts and raw HTML the page shows for the scenario in LASIM_APP_SCENARIO."""
    def inspect(widgets: list[Any]) -> dict[str, Any]:
        states = _states(widgets)
        children = [c for s in states for c in s.get("children", []) if isinstance(c, str)]
        # every string the browser interprets as markup or a link (HTML, templates, sources)
        markup = [v for s in states for k, v in s.items() if isinstance(v, str)
                  and ("html" in k.lower() or k in ("template", "src", "href", "value"))]
        # the Select's values are labels, which Vuetify shows as text
        plain = [v for s in states for k, v in s.items() if k in ("v_model", "items", "label")]
        return {"texts": children, "markup": markup, "plain": json.dumps(plain)}

    return _session(0, play=False, inspect=inspect)


if __name__ == "__main__":
    _setup()
    check = sys.argv[1]
    result = leak(int(sys.argv[2]), traced="--traced" in sys.argv) if check == "leak" else texts()
    print(json.dumps(result))
