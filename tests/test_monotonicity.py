"""Responses point the way the sources say (issue 8, item 7).

Over the 3 x 3 x 3 grid of experiments.responses (facilitation 0.3/0.6/0.9,
funding gap 0/12/24 months, government 0/0.5/1; 40 replications per cell on
common seeds), P(functioning), P(scaled), survival after funding and P(sustained) do not
fall with facilitation or government and do not rise with the gap: no adjacent
pair of levels moves the wrong way at 1% (one-sided paired t-test). The grid is
run once per session (module fixture); ``python -m experiments.responses``
prints the same cell table.
"""

from __future__ import annotations

import pytest

from experiments.responses import GRID, OUTCOMES, cell_table, monotonicity_checks, response_grid

pytestmark = pytest.mark.slow

REPLICATIONS = 40


@pytest.fixture(scope="module")
def grid_runs():
    return response_grid(replications=REPLICATIONS)


def test_every_cell_has_its_replications(grid_runs):
    table = cell_table(grid_runs)
    assert len(table) == 27 and (table["runs"] == REPLICATIONS).all()


@pytest.mark.parametrize("factor", list(GRID))
@pytest.mark.parametrize("outcome", OUTCOMES)
def test_outcome_does_not_move_the_wrong_way(grid_runs, factor, outcome):
    checks = monotonicity_checks(grid_runs, outcomes=[outcome])
    checks = checks[checks["factor"] == factor]
    assert len(checks) == 18  # 2 level pairs x 9 settings of the other two factors
    bad = checks[~checks["ok"]]
    assert bad.empty, "moves the wrong way at 1%:\n" + bad.to_string(index=False)
