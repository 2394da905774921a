"""The explorer without a browser: layout, session, frames, and ``lasim app``'s bad input."""

from __future__ import annotations

import socket

import numpy as np
import pytest

from lasim.cli import main
from lasim.drawing import compute_layout
from lasim.explorer.figures import FrameRenderer
from lasim.explorer.session import CONTROL_NAMES, ExplorerSession, controls
from model.alliance import AllianceModel
from model.errors import LasimInputError
from model.scenario import list_scenarios, parameter_specs


def test_layout_is_fixed_by_structure_and_levels_are_stacked(default_scenario):
    a = AllianceModel(default_scenario, rng=1)
    b = AllianceModel(default_scenario, rng=1)
    la, lb = compute_layout(a.world), compute_layout(b.world)
    np.testing.assert_array_equal(la.xy, lb.xy)
    w = a.world
    y = la.platform_xy[:, 1]
    # national above district above community
    for parent_level, child_level in ((0, 1), (1, 2)):
        assert y[w.platform_level == parent_level].min() > y[w.platform_level == child_level].max()
    # every organisation has a distinct place
    assert len({tuple(p) for p in np.round(la.xy, 6)}) == w.n
    # every child platform is linked to its parent
    assert len(la.parent_segments) == int((w.platform_parent >= 0).sum())


def test_playing_does_not_recompute_the_layout():
    s = ExplorerSession.open("default", seed=2)
    layout = s.layout
    s.step(5)
    assert s.layout is layout and s.snapshot().month == 5
    s.reset({"facilitation_quality": 0.3})
    assert s.layout is not layout and s.snapshot().month == 0
    assert s.current("facilitation_quality") == 0.3


def test_app_seed_is_the_cli_seed(tmp_path):
    """The app's seed N plays the run ``lasim run --seed N`` writes."""
    import pandas as pd

    s = ExplorerSession.open("default", seed=4)
    s.step(200)
    out = tmp_path / "run"
    assert main(["run", "default", "--seed", "4", "--out", str(out), "--no-plots"]) == 0
    written = pd.read_parquet(out / "timeseries.parquet")
    mine = s.snapshot().series
    for col in ("adoption_all", "mean_trust", "alliance_size"):
        np.testing.assert_allclose(written[col].to_numpy(dtype=float), mine[col].to_numpy(dtype=float),
                                   err_msg=col)


def test_session_stops_at_the_horizon():
    s = ExplorerSession.open("default", seed=1)
    horizon = s.current("horizon_months")
    assert s.step(horizon + 50) == horizon
    assert s.finished and s.snapshot().finished


def test_out_of_range_setting_is_refused_and_the_old_model_kept():
    s = ExplorerSession.open("default", seed=1)
    model = s.model
    with pytest.raises(LasimInputError, match="facilitation_quality"):
        s.reset({"facilitation_quality": 1.5})
    assert s.model is model


def test_controls_stay_inside_the_models_ranges():
    specs = parameter_specs()
    assert set(CONTROL_NAMES) == {"facilitation_quality", "funding_gap_months", "funding_gap_start",
                                  "government_involvement", "documentation", "turnover_rate", "cost_sharing"}
    for c in controls(120):
        assert specs[c.name].low <= c.low < c.high <= specs[c.name].high
        assert c.label and c.unit


def test_frames_change_as_the_model_plays():
    s = ExplorerSession.open("default", seed=3)
    r = FrameRenderer()
    first = r.render(s)
    s.step(40)
    later = r.render(s)
    assert later.month == 40 and first.month == 0
    for name in ("alliance", "adoption", "dynamics"):
        a, b = getattr(first, name), getattr(later, name)
        assert a.startswith(b"<?xml") and b"<svg" in a, name  # vector: sharp at any size and zoom
        assert a != b, name


def test_updated_frame_equals_a_fresh_drawing():
    """Updating only the changing artists must give the drawing a fresh figure gives."""
    s = ExplorerSession.open("default", seed=3)
    played = FrameRenderer()
    played.render(s)
    s.step(25)
    fresh = FrameRenderer()
    a, b = played.render(s), fresh.render(s)
    for name in ("alliance", "adoption", "dynamics"):
        assert getattr(a, name) == getattr(b, name), name


@pytest.mark.parametrize("argv, expected", [
    (["app", "no_such_scenario"], "unknown scenario 'no_such_scenario'"),
    (["app", "missing/file.toml"], "missing/file.toml: no such scenario file"),
    (["app", "--port", "70000"], "--port 70000: must be between 1 and 65535"),
])
def test_app_bad_input_is_one_line_exit_2(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and expected in err


def test_app_port_in_use_is_one_line_exit_2(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--port {port}" in err


def test_picker_offers_the_file_given_to_lasim_app_first(tmp_path, monkeypatch):
    from lasim.explorer.server import SCENARIO_ENV
    from lasim.explorer.session import scenario_choices

    path = tmp_path / "my_alliance.toml"
    path.write_text('base = "default"\nname = "my_alliance"\n[parameters]\nfacilitation_quality = 0.5\n')
    monkeypatch.setenv(SCENARIO_ENV, str(path))
    choices = scenario_choices()
    label, target = next(iter(choices.items()))
    assert label.startswith("my_alliance.toml") and target == str(path)
    assert {name for name, _ in list_scenarios()} <= set(choices.values())
    assert ExplorerSession.open(target).current("facilitation_quality") == 0.5


def test_server_settings_keep_everything_on_this_machine():
    """Telemetry off, and the asset proxy can only ever read its local cache."""
    import subprocess
    import sys

    code = (
        "from lasim.explorer.server import configure_environment, offline_assets_ready\n"
        "configure_environment(None)\n"
        "import solara.settings, solara.server.settings as ss\n"
        "assert not ss.telemetry.mixpanel_enable\n"
        "assert solara.settings.assets.cdn.startswith('http://127.0.0.1:')\n"
        "assert offline_assets_ready()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", [n for n, _ in list_scenarios()])
def test_every_shipped_scenario_renders(name):
    s = ExplorerSession.open(name, seed=1)
    r = FrameRenderer()
    r.render(s)
    s.step(12)
    frame = r.render(s)
    assert frame.month == 12 and all(len(b) > 1000 for b in (frame.alliance, frame.adoption, frame.dynamics))


def test_platforms_not_meeting_are_ringed_in_red_and_only_they():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lasim.drawing import draw_alliance

    model = AllianceModel("default", rng=1)
    w = model.world
    stopped = np.zeros(w.n_platforms, dtype=bool)
    stopped[[1, 4]] = True
    fig, ax = plt.subplots()
    try:
        artists = draw_alliance(ax, compute_layout(w), model.stage, w.influence, stopped=stopped)
        red = np.all(np.isclose(artists.stopped.get_edgecolors(), (0.8, 0.1, 0.1, 1.0)), axis=1)
        assert red.tolist() == stopped.tolist()
        # a later month: the rings follow, without redrawing
        artists.update(model.stage, w.edge_active, None, ~stopped)
        red = np.all(np.isclose(artists.stopped.get_edgecolors(), (0.8, 0.1, 0.1, 1.0)), axis=1)
        assert red.tolist() == (~stopped).tolist()
    finally:
        plt.close(fig)
