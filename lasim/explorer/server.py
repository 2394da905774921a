"""Serve the explorer page with Solara's Starlette app under uvicorn, fully offline.

We do not go through ``solara run``: it checks PyPI for a newer version at
start-up, and Solara's server telemetry posts to an analytics service. Both
would leave the machine; a trainer in a district town may have no connection
at all, and the page must not wait on one.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import stat as stat_module
import warnings
from pathlib import Path
from typing import Any

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


def _bind(s: socket.socket, host: str, port: int) -> None:
    """Bind ``s`` or fail with one line naming the host (and port) and what to do."""
    try:
        s.bind((host, port))
    except socket.gaierror:
        raise LasimInputError(f"--host {host!r}: not a known host name or address") from None
    except OSError as exc:
        raise LasimInputError(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
            "choose another port, e.g. --port 0 for any free one"
        ) from None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now (one line when ``host`` is not usable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        _bind(s, host, 0)
        return int(s.getsockname()[1])


def parse_port(text: str | int) -> int:
    """The ``--port`` value as a number, or one line saying what is allowed."""
    try:
        port = int(str(text).strip())
    except ValueError:
        raise LasimInputError(
            f"--port {text!r}: must be a whole number between 1 and 65535 (0: any free port)") from None
    if not 0 <= port < 65536:
        raise LasimInputError(f"--port {port}: must be between 1 and 65535 (0: any free port)")
    return port


def is_loopback(host: str) -> bool:
    """True when ``host`` only accepts connections from this machine (127.x, ::1, localhost)."""
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a network address


def network_addresses(host: str) -> list[str]:
    """Addresses of this machine that others on the network can reach when listening on ``host``.

    For a wildcard (``0.0.0.0``, ``::``, empty) these are this machine's own IPv4
    addresses except loopback; for a specific address, that address.
    """
    if host not in ("0.0.0.0", "", "::"):
        return [host]
    found: list[str] = []
    with contextlib.suppress(OSError):
        found += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    # the address of the interface the default route uses (a UDP connect sends nothing)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.254.254.254", 9))
            found.append(s.getsockname()[0])
        except OSError:
            pass
    out = []
    for a in found:
        if a not in out and not ipaddress.ip_address(a).is_loopback:
            out.append(a)
    return out


def network_notice(host: str, port: int) -> str:
    """The warning printed when the page is open to the network, with the addresses to give out."""
    addresses = network_addresses(host)
    lines = [
        f"lasim app: WARNING: --host {host} lets anyone who can reach this machine open the explorer and "
        "run simulations on it. Use it only on a network you trust (e.g. a workshop's own Wi-Fi); "
        "stop with Ctrl+C when the session ends.",
    ]
    if addresses:
        lines.append("lasim app: participants open: " + "  ".join(f"http://{a}:{port}/" for a in addresses))
    else:
        lines.append("lasim app: no network address found on this machine: participants cannot connect yet")
    return "\n".join(lines)


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
        _bind(s, host, port)


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


def read_only_assets(directory: Path) -> Any:
    """The read-only replacement of Solara's asset proxy, serving ``directory`` (an ASGI app)."""
    from starlette.staticfiles import StaticFiles

    class _ReadOnlyCdn(StaticFiles):
        """Serves files already in the asset cache; never fetches, writes or deletes.

        Solara's own ``StaticCdn`` deletes a cached *directory* it is asked for
        (``cdn_helper.get_path``: ``shutil.rmtree``) and writes whatever it fetched
        from the CDN into the cache: one ``GET /_solara/cdn/<folder>`` blanked the
        page for good. A folder here is simply not found.
        """

        def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
            parts = [p for p in path.replace("\\", "/").split("/") if p]
            if not parts or any(p in (".", "..") for p in parts):
                return "", None
            # Solara stores a bare package request (``requirejs@2.3.6``) as ``<name>/__main.js``
            rel = "/".join(parts) if len(parts) > 1 else f"{parts[0]}/__main.js"
            full, stat = super().lookup_path(rel)
            if stat is None or not stat_module.S_ISREG(stat.st_mode):
                return "", None
            return full, stat

    return _ReadOnlyCdn(directory=directory, check_dir=False)


def build_app() -> Any:
    """Solara's Starlette app with its asset proxy replaced by a read-only file server.

    Call after :func:`configure_environment`. No route of the returned app writes or
    deletes a file: the proxy was the only one that did.
    """
    from solara.server import cdn_helper, starlette
    from solara.server import settings as server_settings
    from starlette.routing import Mount

    app = starlette.app
    cache = Path(server_settings.assets.proxy_cache_dir)
    path = f"/{cdn_helper.cdn_url_path}"
    mounts = [i for i, r in enumerate(app.router.routes) if isinstance(r, Mount) and r.path == path]
    for i in mounts:
        app.router.routes[i] = Mount(path, app=read_only_assets(cache))
    if not mounts:  # the page needs the proxy route; a Solara without it must not start half-guarded
        raise RuntimeError(f"Solara's asset route {path} not found: cannot guard it")
    return app


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

    from solara.server import settings

    if settings.telemetry.mixpanel_enable:
        raise RuntimeError("solara was imported before configure_environment(): telemetry is on")

    import uvicorn

    # Solara warns on every plain-http page load about cross-site cookies; on a
    # trainer's laptop serving localhost that is noise, not a problem.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

    uvicorn.run(
        build_app(), host=host, port=port,
        log_level="warning", ws_max_size=64 * 1024 * 1024,
    )
