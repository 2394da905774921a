"""Shared fixtures: small scenarios so the suite stays fast."""

from __future__ import annotations

import os

import matplotlib
import pytest

matplotlib.use("Agg")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def default_scenario():
    from model import load_scenario

    return load_scenario("default")
