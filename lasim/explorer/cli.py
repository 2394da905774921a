"""``lasim app [SCENARIO] [--host H] [--port N]``: open the scenario explorer in a browser."""

from __future__ import annotations

import argparse
import sys
import threading
import webbrowser

from model.errors import LasimInputError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``app`` sub-command."""
    p = subparsers.add_parser(
        "app",
        help="open the scenario explorer in a browser (works offline)",
        description=(
            "Serve the scenario explorer: sliders, a drawing of the alliance, live charts, "
            "an event feed and a comparison mode. Everything is served from this machine, "
            "so it works without internet."
        ),
    )
    p.add_argument("scenario", nargs="?", default=None, metavar="SCENARIO",
                   help="shipped scenario name or scenario .toml file to open first (default: default)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; "
                        "0.0.0.0 lets others on the network connect)")
    # parsed in run(), not by argparse: a bad value must be one line (argparse adds its usage line)
    p.add_argument("--port", default="8765", help="port to listen on (default 8765; 0: any free port)")
    p.add_argument("--open", action="store_true", help="open the page in the default web browser")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate the arguments, then serve until Ctrl+C."""
    from model.scenario import load_scenario

    from .server import (
        check_port,
        configure_environment,
        free_port,
        is_loopback,
        network_notice,
        offline_assets_ready,
        parse_port,
        serve,
    )

    scenario = args.scenario
    if scenario is not None:
        load_scenario(scenario)  # a bad file fails here, as one line, before the server starts
        from pathlib import Path

        if Path(scenario).exists():
            scenario = str(Path(scenario).resolve())
    # before anything imports solara: it reads its settings (telemetry off) at import time
    configure_environment(scenario)
    try:
        import solara  # noqa: F401
    except ImportError:
        raise LasimInputError(
            "lasim app needs the app extra: pip install 'lasim[app]' (solara==1.58.2, solara-assets==1.58.2)"
        ) from None
    if not offline_assets_ready():
        raise LasimInputError(
            "the page's offline front end is missing: pip install solara-assets==1.58.2"
        )
    port = parse_port(args.port)
    port = free_port(args.host) if port == 0 else port
    check_port(args.host, port)
    local = "127.0.0.1" if not is_loopback(args.host) else args.host
    url = f"http://{local}:{port}/"
    print(f"lasim app: serving the scenario explorer on {url} (Ctrl+C to stop)", file=sys.stderr, flush=True)
    if not is_loopback(args.host):
        print(network_notice(args.host, port), file=sys.stderr, flush=True)
    if args.open:
        threading.Timer(1.5, webbrowser.open, args=(url,)).start()
    serve(scenario, host=args.host, port=port)
    return 0
