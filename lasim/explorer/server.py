"""Serve the explorer page with Solara's Starlette app under uvicorn, fully offline.

We do not go through ``solara run``: it checks PyPI for a newer version at
start-up, and Solara's server telemetry posts to an analytics service. Both
would leave the machine; a trainer in a district town may have no connection
at all, and the page must not wait on one.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from model.errors import LasimInputError

#: The Solara page module the server loads (``SOLARA_APP``).
PAGE_MODULE = "lasim.explorer.page"
#: Environment variable that hands the scenario given on the command line to the page.
SCENARIO_ENV = "LASIM_APP_SCENARIO"

_OFFLINE_ENV = {
    # no analytics requests from the server
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false",
    # the bundled front end (solara-assets) is already in the CDN cache directory;
    # the proxy only serves it from there
    "SOLARA_ASSETS_PROXY": "true",
    # and if a file were missing from that cache, the proxy would fetch it from a public
    # CDN: point it nowhere instead, so the page behaves the same with or without internet
    # and the server itself never reaches out (the browser test would see the failure)
    "SOLARA_ASSETS_CDN": "http://127.0.0.1:9/no-cdn-lasim-app-is-offline/",
    "SOLARA_THEME_SHOW_BANNER": "false",
    "SOLARA_THEME_TITLE": "lasim scenario explorer",
}


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def check_port(host: str, port: int) -> None:
    """Fail with one line when ``host:port`` cannot be bound.

    Raises
    ------
    LasimInputError
        When the port is outside 1..65535, in use, or the host is not an address of this machine.
    """
    if not 0 < port < 65536:
        raise LasimInputError(f"--port {port}: must be between 1 and 65535")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except socket.gaierror:
            raise LasimInputError(f"--host {host!r}: not a known host name or address") from None
        except OSError as exc:
            raise LasimInputError(
                f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
                "choose another port, e.g. --port 0 for any free one"
            ) from None


def configure_environment(scenario: str | None) -> None:
    """Set the variables Solara reads at import time; call before importing ``solara.server``."""
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    os.environ["SOLARA_APP"] = PAGE_MODULE
    if scenario:
        os.environ[SCENARIO_ENV] = scenario
    else:
        os.environ.pop(SCENARIO_ENV, None)


def offline_assets_ready() -> bool:
    """True when the bundled Solara front end is installed (package ``solara-assets``)."""
    try:
        from solara.server import settings
    except ImportError:
        return False
    cache = Path(settings.assets.proxy_cache_dir)
    return any(cache.glob("@widgetti/solara-vuetify*-app@*"))


def serve(scenario: str | None, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the explorer until interrupted (blocks).

    Parameters
    ----------
    scenario
        A shipped scenario name or a scenario TOML path to open first (``None``: default).
    host, port
        Where to listen; ``127.0.0.1`` keeps the page private to this machine.
    """
    configure_environment(scenario)
    import warnings

    from solara.server import settings

    if settings.telemetry.mixpanel_enable:
        raise RuntimeError("solara was imported before configure_environment(): telemetry is on")

    import uvicorn

    # Solara warns on every plain-http page load about cross-site cookies; on a
    # trainer's laptop serving localhost that is noise, not a problem.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

    uvicorn.run(
        "solara.server.starlette:app", host=host, port=port,
        log_level="warning", ws_max_size=64 * 1024 * 1024,
    )
