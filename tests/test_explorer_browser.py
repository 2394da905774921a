"""``lasim app`` in a real headless browser: Playwright driving Debian's Chromium.

The page must load and work with no internet: every request the browser makes
must go to the lasim server on 127.0.0.1. When Chromium is missing the test
installs it with apt, and fails (never skips) when it cannot, so CI cannot pass
without having run it.

Screenshots go to ``test-artifacts/`` at the repository root (git-ignored). The
server runs on a hard-linked copy of the offline asset cache
(``SOLARA_ASSETS_PROXY_CACHE_DIR``), so the request that used to delete part of
the cache can be tried here without ever touching the real one.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def _ensure_chromium() -> Path:
    """Debian's Chromium, installed with apt when missing; a clear failure when impossible."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return Path(found)
    apt = shutil.which("apt-get")
    detail = "apt-get not found"
    if apt:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        try:
            subprocess.run([apt, "update", "-qq"], check=True, capture_output=True, timeout=600, env=env)
            subprocess.run([apt, "install", "-y", "-qq", "chromium"], check=True, capture_output=True,
                           timeout=1200, env=env)
        except (subprocess.SubprocessError, OSError) as exc:
            out = getattr(exc, "stderr", b"") or b""
            detail = f"{exc.__class__.__name__}: {out.decode(errors='replace').strip()[-300:]}"
    if CHROMIUM.exists():
        return CHROMIUM
    pytest.fail(
        f"the browser test needs Chromium at {CHROMIUM} and could not install it ({detail}); "
        "run 'apt-get install -y chromium' as root (Playwright cannot download browsers here)"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def asset_cache(tmp_path_factory) -> Path:
    """A hard-linked copy of the offline asset cache: instant, and nothing done to it reaches the real one."""
    import solara.server.settings as ss

    copy = tmp_path_factory.mktemp("assets") / "cdn"
    shutil.copytree(Path(ss.assets.proxy_cache_dir), copy, copy_function=os.link)
    return copy


@pytest.fixture(scope="module")
def app_url(asset_cache) -> Iterator[str]:
    """``lasim app`` on a free port of 127.0.0.1, started as a user would, stopped afterwards."""
    port = _free_port()
    log = ARTIFACTS / "lasim-app.log"
    ARTIFACTS.mkdir(exist_ok=True)
    with log.open("w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lasim.cli", "app", "--port", str(port)],
            cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "SOLARA_ASSETS_PROXY_CACHE_DIR": str(asset_cache)},
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 90
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"lasim app exited with {proc.returncode}: {log.read_text()[-2000:]}")
                try:
                    with urllib.request.urlopen(url, timeout=5) as resp:
                        if resp.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"lasim app did not answer on {url} within 90 s: {log.read_text()[-2000:]}")
                time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    executable = _ensure_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(executable), args=CHROMIUM_ARGS)
        yield b
        b.close()


class PageWatch:
    """Every request, console error and page error of one page."""

    def __init__(self, page) -> None:
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda r: self.requests.append(r.url))
        page.on("websocket", lambda ws: self.requests.append(ws.url))
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.errors.append(f"request failed: {r.url} {r.failure}"))
        page.on("response", lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status}: {r.url}"))

    def outside(self) -> list[str]:
        """Requests to anything but this machine's lasim server."""
        bad = []
        for url in self.requests:
            parsed = urlparse(url)
            if parsed.scheme in ("data", "blob", "about"):
                continue
            if parsed.hostname not in LOCAL_HOSTS:
                bad.append(url)
        return bad


def _default(name: str) -> float:
    from model.scenario import load_scenario

    return float(getattr(load_scenario("default").parameters, name))


def _month(page) -> int:
    text = page.inner_text(".lasim-month")
    m = re.search(r"Month (\d+) of", text)
    assert m, text
    return int(m.group(1))


def _open(browser, url: str, width: int = 1500, height: int = 1150, scale: float = 1.0):
    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=scale)
    watch = PageWatch(page)
    page.goto(url)
    page.wait_for_selector("img.lasim-alliance", state="attached", timeout=90_000)
    page.wait_for_selector(".lasim-month", timeout=30_000)
    page.wait_for_selector("h1:has-text('lasim scenario explorer')", timeout=30_000)
    page.wait_for_function("() => document.querySelector('img.lasim-alliance').naturalWidth > 0", timeout=30_000)
    # the page's style sheet arrives as a widget of its own: measure only once it applies
    page.wait_for_function("() => getComputedStyle(document.querySelector('.lasim-main')).display === 'grid'",
                           timeout=30_000)
    return page, watch


def _box(page, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, selector
    return box


def _label_px(page) -> float:
    """CSS pixels of the drawing's smallest labels: their point size scaled by how wide the SVG is shown."""
    from lasim.explorer.figures import ALLIANCE_LABEL_PT, ALLIANCE_WIDTH_IN, label_px

    return label_px(ALLIANCE_LABEL_PT, ALLIANCE_WIDTH_IN, _box(page, "img.lasim-alliance")["width"])


def _svg_text(page, selector: str) -> str:
    return page.evaluate("s => fetch(document.querySelector(s).src).then(r => r.text())", selector)


def test_page_plays_offline(browser, app_url):
    page, watch = _open(browser, app_url)
    try:
        for name in ("alliance", "adoption", "dynamics"):
            assert page.locator(f".lasim-{name}").count() == 1, name
        assert _month(page) == 0
        before = page.locator(".lasim-adoption").screenshot()

        # move the facilitation slider from 0.7 down to 0.4 with the keyboard, as a trainer could
        thumb = page.locator(".lasim-control-facilitation_quality [role=slider]")
        start = float(thumb.get_attribute("aria-valuenow"))
        assert start == _default("facilitation_quality")
        target = f"{round(start - 0.3, 2):.3g}"  # six steps of 0.05 down
        thumb.focus()
        for _ in range(6):
            page.keyboard.press("ArrowLeft")
        # the label is read back from the rebuilt model's parameters, so this proves the model changed
        page.wait_for_function(
            "t => document.querySelector('.lasim-control-facilitation_quality .lasim-label')"
            ".innerText.includes(`: ${t} (`)", arg=target, timeout=30_000)
        assert _month(page) == 0

        page.locator(".lasim-speed button", has_text="6").click()
        page.locator(".lasim-play").click()
        page.wait_for_function(
            "() => /Month ([3-9]\\d|1\\d\\d) of/.test(document.querySelector('.lasim-month').innerText)",
            timeout=90_000)
        # the feed fills in plain words (the project ends after month 60: "month 61: project funding ends")
        page.wait_for_function(
            "() => document.querySelector('.lasim-events').innerText.includes('month')", timeout=120_000)
        page.locator(".lasim-play").click()  # pause
        page.wait_for_function(
            "() => document.querySelector('.lasim-month').innerText.includes('paused')"
            " || document.querySelector('.lasim-month').innerText.includes('finished')", timeout=30_000)
        # a frame being drawn when Pause arrives is still shown; after that, nothing moves
        page.wait_for_timeout(1000)
        month = _month(page)
        assert month >= 30
        after = page.locator(".lasim-adoption").screenshot()
        assert after != before, "the adoption chart did not change while playing"

        events = page.inner_text(".lasim-events")
        assert re.search(r"months? \d+(-\d+)?: ", events), events
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "explorer.png"), full_page=True)

        # pause means pause: the month stays put
        time.sleep(1.5)
        assert _month(page) == month

        assert not watch.errors, watch.errors
        assert not watch.outside(), f"requests left 127.0.0.1: {watch.outside()}"
        assert any(urlparse(u).hostname == "127.0.0.1" for u in watch.requests)
    finally:
        page.close()


def test_comparison_mode(browser, app_url):
    page = browser.new_page(viewport={"width": 1500, "height": 1900})
    watch = PageWatch(page)
    try:
        page.goto(app_url)
        page.wait_for_selector(".lasim-mode", timeout=90_000)
        page.locator(".lasim-mode button", has_text="Compare").click()
        page.wait_for_selector(".lasim-run-compare", timeout=30_000)
        # setting B starts with weaker facilitation than A, so a first press already contrasts them
        a_label = page.inner_text(".lasim-setting-a .lasim-control-facilitation_quality .lasim-label")
        b_label = page.inner_text(".lasim-setting-b .lasim-control-facilitation_quality .lasim-label")
        assert f": {_default('facilitation_quality'):.3g} (" in a_label and ": 0.4 (" in b_label
        page.locator(".lasim-run-compare").click()
        page.wait_for_selector(".lasim-verdict", timeout=180_000)
        verdict = page.inner_text(".lasim-verdict")
        assert re.search(r"scales in \d+% \[\d+, \d+\] of runs against \d+%", verdict), verdict
        assert "10 paired runs" in verdict
        for name in ("probabilities", "months_to_scale", "adoption_by_level", "cost"):
            page.wait_for_function(
                f"() => {{ const i = document.querySelector('img.lasim-compare-{name}');"
                " return i !== null && i.complete && i.naturalWidth > 0; }", timeout=30_000)
        page.wait_for_timeout(500)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "explorer-compare.png"), full_page=True)
        # the replications slider starts at the minimum that can call a difference clear
        rep = page.locator(".lasim-replications [role=slider]")
        assert rep.get_attribute("aria-valuemin") == "10"
        # a verdict about other settings does not stay on screen once a slider moves
        thumb = page.locator(".lasim-setting-b .lasim-control-facilitation_quality [role=slider]")
        thumb.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_selector(".lasim-stale", timeout=30_000)
        assert page.locator(".lasim-verdict").count() == 0
        assert not watch.errors, watch.errors
        assert not watch.outside(), f"requests left 127.0.0.1: {watch.outside()}"
    finally:
        page.close()


def test_compare_report_opens_offline(browser, tmp_path):
    """report.html of ``lasim compare`` is one self-contained file: it opens with no other request."""
    from experiments.compare import shipped_designs
    from lasim.cli import main

    designs = shipped_designs()
    out = tmp_path / "report"
    assert main(["compare", str(designs["district_hubs"]), str(designs["linked_layers"]), "-n", "4",
                 "--out", str(out), "--processes", "1", "-q"]) == 0
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    watch = PageWatch(page)
    try:
        report = (out / "report.html").resolve()
        page.goto(report.as_uri())
        from experiments.report import FIGURES

        page.wait_for_function(
            f"() => [...document.images].length === {len(FIGURES)} "
            "&& [...document.images].every(i => i.naturalWidth > 0)",
            timeout=30_000)
        body = page.inner_text("body")
        assert "Decision" in body and "Ranking" in body and "Against the first design" in body
        others = [u for u in watch.requests if u != report.as_uri() and not u.startswith("data:")]
        assert not others, others
        assert not watch.errors, watch.errors
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "compare-report.png"), full_page=True)
    finally:
        page.close()


@pytest.mark.parametrize("width, height", [(1024, 768), (1366, 768)])
def test_projector_layout(browser, app_url, width, height):
    """Labels of at least 12 CSS px; at 1366 x 768 controls, drawing and feed all on screen."""
    page, watch = _open(browser, app_url, width, height)
    try:
        assert _label_px(page) >= 12, _label_px(page)
        assert b"<svg" in _svg_text(page, "img.lasim-alliance").encode()  # vector: sharp at any zoom
        on_screen = [".lasim-play", ".lasim-step", ".lasim-control-facilitation_quality",
                     ".lasim-control-cost_sharing", "img.lasim-alliance", ".lasim-month"]
        if width >= 1366:
            on_screen.append(".lasim-feed")
        for selector in on_screen:
            box = _box(page, selector)
            assert box["y"] >= 0 and box["x"] >= 0, selector
            assert box["y"] + min(box["height"], 200) <= height and box["x"] + box["width"] <= width + 1, (
                selector, box)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"explorer-{width}x{height}.png"))
        # the large-text preset makes the drawing's labels larger still
        before = _label_px(page) * 1.0
        page.locator(".lasim-large-text").click()
        page.wait_for_selector(".lasim-large", timeout=30_000)
        page.wait_for_timeout(1500)
        from lasim.explorer.figures import LARGE_TEXT

        svg = _svg_text(page, "img.lasim-alliance")
        assert f"font: {9 * LARGE_TEXT:g}px" in svg or f"font-size: {9 * LARGE_TEXT:g}px" in svg or (
            f"{9 * LARGE_TEXT:g}px" in svg), "the large-text preset did not enlarge the drawing's labels"
        assert before >= 12
        page.screenshot(path=str(ARTIFACTS / f"explorer-{width}x{height}-large.png"))
        assert not watch.errors, watch.errors
        assert not watch.outside(), f"requests left 127.0.0.1: {watch.outside()}"
    finally:
        page.close()


def test_browser_zoom_keeps_the_drawing_large(browser, app_url):
    """150% zoom on a 1024 x 768 screen: 683 x 512 CSS px at 1.5 device pixels each."""
    page, watch = _open(browser, app_url, 683, 512, scale=1.5)
    try:
        assert _label_px(page) >= 12, _label_px(page)
        assert _box(page, "img.lasim-alliance")["y"] < 512  # the drawing comes first
        page.screenshot(path=str(ARTIFACTS / "explorer-zoom150.png"))
        assert not watch.errors, watch.errors
    finally:
        page.close()


def test_feed_explains_and_ends_with_a_verdict(browser, app_url):
    page, watch = _open(browser, app_url, 1366, 768)
    try:
        thumb = page.locator(".lasim-control-facilitation_quality [role=slider]")
        thumb.focus()
        for _ in range(10):  # 0.7 -> 0.2
            page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            "() => document.querySelector('.lasim-control-facilitation_quality .lasim-label')"
            ".innerText.includes(': 0.2 (')", timeout=30_000)
        page.locator(".lasim-speed button", has_text="6").click()
        page.locator(".lasim-play").click()
        page.wait_for_function("() => document.querySelector('.lasim-month').innerText.includes('finished')",
                               timeout=180_000)
        page.wait_for_selector(".lasim-line-verdict", timeout=30_000)
        verdict = page.inner_text(".lasim-line-verdict")
        assert "result after 120 months" in verdict, verdict
        pinned = page.inner_text(".lasim-pinned")
        assert "project funding ends" in pinned and pinned.rstrip().endswith(verdict.strip().splitlines()[-1])
        events = page.inner_text(".lasim-events")
        assert re.search(r"months? \d+(-\d+)?: \d+ platforms stop meeting", events), events
        # platforms not meeting at the end are ringed in red in the drawing, and only
        # those: the same run (seed 1, facilitation 0.2) stepped here says which they are
        from lasim.explorer.session import ExplorerSession

        same = ExplorerSession.open("default", 1)
        same.reset({"facilitation_quality": 0.2})
        while not same.finished:
            same.step(12)
        stopped = same.snapshot().stopped
        assert ("#cc1a1a" in _svg_text(page, "img.lasim-alliance").lower()) == bool(stopped.any()), stopped
        page.screenshot(path=str(ARTIFACTS / "explorer-feed.png"))
        assert not watch.errors, watch.errors
        assert not watch.outside(), f"requests left 127.0.0.1: {watch.outside()}"
    finally:
        page.close()


def test_the_deleting_request_is_refused(app_url, asset_cache):
    """``GET /_solara/cdn/<folder>`` used to delete the folder; now it is a 404 and the folder stays."""
    import urllib.error

    folder = asset_cache / "font-awesome@4.5.0" / "css"
    assert folder.is_dir()
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(app_url + "_solara/cdn/font-awesome@4.5.0/css", timeout=10)
    assert exc.value.code == 404
    assert folder.is_dir() and any(folder.iterdir())
    with urllib.request.urlopen(app_url + "_solara/cdn/font-awesome@4.5.0/css/font-awesome.min.css",
                                timeout=10) as resp:
        assert resp.status == 200  # files are still served
