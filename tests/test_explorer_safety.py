"""``lasim app`` is safe to leave running: no request deletes or writes a file, scenario text is
only text, a network-facing --host says so, closed tabs free their memory; and the page's own bugs."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lasim.cli import main
from lasim.explorer.compare_tab import MIN_REPLICATIONS, compare_settings
from lasim.explorer.server import is_loopback, network_notice
from lasim.explorer.session import controls, first_line, inert_controls, scenario_choices
from model.errors import LasimInputError
from model.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
HARNESS = ROOT / "tests" / "explorer_harness.py"


def _python(code_or_args: list[str], env: dict[str, str] | None = None, timeout: int = 600) -> str:
    proc = subprocess.run([sys.executable, *code_or_args], capture_output=True, text=True, timeout=timeout,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def _cache_copy(tmp_path: Path) -> Path:
    """A copy of part of the offline asset cache (hard links: instant, and deleting a link
    leaves the real cache alone). Never test the deleting request on the real cache."""
    import solara.server.settings as ss

    real = Path(ss.assets.proxy_cache_dir)
    copy = tmp_path / "cdn"
    copy.mkdir()
    for name in ("requirejs@2.3.6", "font-awesome@4.5.0"):
        shutil.copytree(real / name, copy / name, copy_function=os.link)
    return copy


ASGI_GET = textwrap.dedent('''
    import asyncio, json, os, sys
    from lasim.explorer.server import build_app, configure_environment
    configure_environment(None)
    if sys.argv[1] == "solara":
        import solara.server.starlette as st
        app = st.app
    else:
        app = build_app()

    def get(path):
        sent, calls = [], []
        async def receive():
            calls.append(1)
            if len(calls) > 1:
                await asyncio.sleep(3600)
            return {"type": "http.request", "body": b"", "more_body": False}
        async def send(msg):
            sent.append(msg)
        scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": b"",
                 "headers": [(b"host", b"127.0.0.1")], "scheme": "http", "server": ("127.0.0.1", 80),
                 "client": ("127.0.0.1", 1), "root_path": "", "http_version": "1.1", "asgi": {"version": "3.0"}}
        asyncio.run(app(scope, receive, send))
        return next(m["status"] for m in sent if m["type"] == "http.response.start")

    print(json.dumps({p: get(p) for p in sys.argv[2:]}))
''')


def _get(cache: Path, which: str, *paths: str) -> dict[str, int]:
    out = _python(["-c", ASGI_GET, which, *paths], env={"SOLARA_ASSETS_PROXY_CACHE_DIR": str(cache)})
    return json.loads(out.strip().splitlines()[-1])


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_no_request_deletes_or_writes_an_asset(tmp_path):
    cache = _cache_copy(tmp_path)
    before = _tree(cache)
    status = _get(cache, "lasim", "/_solara/cdn/requirejs@2.3.6", "/_solara/cdn/font-awesome@4.5.0/",
                  "/_solara/cdn/font-awesome@4.5.0/css", "/_solara/cdn/no-such@1.0/x.js",
                  "/_solara/cdn/no-such-package", "/_solara/cdn/requirejs@2.3.6/require.js")
    assert _tree(cache) == before, "a request changed the asset cache"
    assert status["/_solara/cdn/requirejs@2.3.6/require.js"] == 200  # files are still served
    assert all(v == 404 for k, v in status.items() if not k.endswith("require.js")), status


def test_solaras_own_route_would_delete_the_folder(tmp_path):
    """The hazard the guard removes, shown on a copy: if this stops deleting, the guard may go."""
    cache = _cache_copy(tmp_path)
    assert (cache / "font-awesome@4.5.0" / "css").is_dir()
    _get(cache, "solara", "/_solara/cdn/font-awesome@4.5.0/css")
    assert not (cache / "font-awesome@4.5.0" / "css").exists()


def test_scenario_text_is_shown_as_text(tmp_path):
    path = tmp_path / "evil.toml"
    description = ("[x](javascript:alert(1)) ![img](http://example.com/x.png) "
                   "<script>alert(2)</script>")
    path.write_text(f'base = "default"\nname = "evil"\ndescription = """{description}"""\n')
    out = json.loads(_python([str(HARNESS), "texts"], env={"LASIM_APP_SCENARIO": str(path)}).splitlines()[-1])
    assert description in out["texts"]  # shown, as the characters it is
    for s in out["markup"]:
        assert "javascript:" not in s and "example.com" not in s and "alert(" not in s, s[:200]


def test_a_scenario_without_description_opens(tmp_path):
    path = tmp_path / "bare.toml"
    path.write_text('base = "default"\nname = "bare"\ndescription = ""\n')
    out = json.loads(_python([str(HARNESS), "texts"], env={"LASIM_APP_SCENARIO": str(path)}).splitlines()[-1])
    assert "(this scenario has no description)" in out["texts"]
    assert first_line("") == "" and first_line("\n  \nsecond") == "second"


@pytest.mark.slow
def test_closed_sessions_free_their_memory():
    out = json.loads(_python([str(HARNESS), "leak", "30"]).splitlines()[-1])
    assert out["models_alive"] == 0, out
    assert out["per_session_mb"] < 1.0, out


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                             ("0.0.0.0", False), ("192.168.1.20", False)])
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_network_host_prints_a_warning_and_the_addresses():
    text = network_notice("192.168.1.20", 8765)
    assert "WARNING" in text and "http://192.168.1.20:8765/" in text
    assert "participants open" in network_notice("0.0.0.0", 8765) or "no network address" in network_notice(
        "0.0.0.0", 8765)


@pytest.mark.parametrize("argv, expected", [
    (["app", "--port", "abc"], "--port 'abc': must be a whole number"),
    (["app", "--port", "-3"], "--port -3: must be between 1 and 65535"),
    (["app", "--host", "999.1.1.1"], "--host '999.1.1.1': not a known host name or address"),
    # --port 0 asks for any free port: the host is checked while looking for one
    (["app", "--host", "999.1.1.1", "--port", "0"], "--host '999.1.1.1': not a known host name or address"),
])
def test_bad_host_or_port_is_one_line_exit_2(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err


def test_units_read_as_words():
    by_name = {c.name: c for c in controls(120)}
    assert by_name["funding_gap_start"].fmt(6) == "month 6"
    assert by_name["funding_gap_months"].fmt(6) == "6 months"
    assert by_name["funding_gap_months"].fmt(1) == "1 month"


def test_picker_has_descriptions_and_the_shipped_designs():
    choices = scenario_choices()
    assert any(label.startswith("default: ") for label in choices)
    targets = list(choices.values())
    assert any(t.endswith("district_hubs.toml") for t in targets)
    assert any(t.endswith("linked_layers.toml") for t in targets)


def test_compare_opens_on_the_scenario_given_to_lasim_app(monkeypatch):
    from lasim.explorer.server import SCENARIO_ENV
    from lasim.explorer.session import label_of

    monkeypatch.setenv(SCENARIO_ENV, "funding_gap")
    choices = scenario_choices()
    assert choices[label_of(os.environ[SCENARIO_ENV], choices)] == "funding_gap"


def test_bass_disables_the_sliders_that_change_nothing():
    inert = inert_controls(load_scenario("bass"))
    assert inert, "bass: every slider claims an effect"
    assert all("no effect in this scenario" in reason for reason in inert.values())
    # and a slider that does act in the default scenario stays enabled
    assert "facilitation_quality" not in inert_controls(load_scenario("default"))


def test_compare_refuses_too_few_replications():
    with pytest.raises(LasimInputError, match=f"between {MIN_REPLICATIONS}"):
        compare_settings(load_scenario("default"), {}, {"facilitation_quality": 0.4}, 3)


def test_a_clear_verdict_next_to_overlapping_intervals_is_called_tentative():
    from lasim.explorer.compare_tab import interval_notes

    for seed in (0, 1, 2):
        r = compare_settings(load_scenario("default"), {}, {"facilitation_quality": 0.4}, MIN_REPLICATIONS, seed)
        notes = interval_notes(r.table, r.verdict)
        a, b = r.table
        for col, words in (("scaled", "scaling"), ("sustained", "sustained adoption")):
            overlap = a[f"p_{col}_lo"] <= b[f"p_{col}_hi"] and b[f"p_{col}_lo"] <= a[f"p_{col}_hi"]
            said_clear = any(
                (f"Difference in {words}" if col == "scaled" else "Sustained adoption") in line for line in r.verdict)
            flagged = any(words in n for n in notes)
            # a note exactly where "clear" meets overlapping intervals, nowhere else
            assert flagged == (overlap and said_clear and _clear(r.verdict, col)), (seed, col, notes)


def _clear(verdict: list[str], col: str) -> bool:
    import re

    text = " ".join(verdict)
    pattern = (r"Difference in scaling: [^.]*?, (clear|not clear)" if col == "scaled"
               else r"Sustained adoption: [^.]*?\], [^,]*?\], (clear|not clear)")
    m = re.search(pattern, text)
    return bool(m) and m.group(1) == "clear"


def test_lasim_app_on_the_network_warns_and_prints_the_addresses(monkeypatch, capsys):
    import lasim.explorer.server as server

    served = []
    monkeypatch.setattr(server, "serve", lambda scenario, host, port: served.append((host, port)))
    monkeypatch.setattr(server, "network_addresses", lambda host: ["192.168.1.20"])
    assert main(["app", "--host", "0.0.0.0", "--port", "0"]) == 0
    err = capsys.readouterr().err
    assert served and served[0][0] == "0.0.0.0"
    port = served[0][1]
    assert "WARNING" in err and f"http://192.168.1.20:{port}/" in err
    # on this machine only: no warning
    assert main(["app", "--port", "0"]) == 0
    assert "WARNING" not in capsys.readouterr().err
