"""model.pages: numpy's huge-page advice is off while a model is built, and put back after."""

import numpy as np
import pytest

from model.alliance import AllianceModel
from model.pages import small_pages

setter = getattr(np._core.multiarray, "_set_madvise_hugepage", None)
pytestmark = pytest.mark.skipif(setter is None, reason="this numpy has no huge-page switch")


@pytest.mark.parametrize("start", [True, False])
def test_small_pages_switches_the_advice_off_and_back(start):
    before = setter(start)
    try:
        with small_pages():
            assert setter(False) is False  # off inside the block
        assert setter(start) is start  # as it was after it
        with pytest.raises(RuntimeError), small_pages():
            raise RuntimeError("a failed build")
        assert setter(start) is start  # and after a failure too
    finally:
        setter(before)


def test_building_a_model_leaves_the_advice_as_it_was():
    before = setter(True)
    try:
        AllianceModel("default", rng=1)
        assert setter(True) is True
    finally:
        setter(before)
