"""Memory pages for building a large model: numpy's huge-page advice switched off meanwhile.

On Linux numpy asks the kernel for transparent huge pages (2 MiB) for every array of
4 MiB or more (``madvise(MADV_HUGEPAGE)``). Where the kernel's ``defrag`` setting is
``madvise``, its default, a fault on such an array compacts memory on the spot to find
a free 2 MiB page: on a machine whose memory is fragmented or shared with other
machines that stalls. Building a model of a million organisations makes a few hundred
such arrays; with the advice it took 0.92 to 1.06 s in a fresh process here, without it
0.62 to 0.63 s, and the 120 months after it cost the same either way (6.52 s;
benchmarks/README.md). Only arrays of 4 MiB and more are advised, so models of under
about half a million organisations are not affected. Results do not depend on pages.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


@contextmanager
def small_pages() -> Iterator[None]:
    """Switch numpy's huge-page advice off inside the block and back to what it was after.

    The switch is numpy's own (``NUMPY_MADVISE_HUGEPAGE`` at start-up); a numpy without it
    leaves everything as it is.
    """
    setter = getattr(getattr(np, "_core", np).multiarray, "_set_madvise_hugepage", None)
    if setter is None:
        yield
        return
    before = setter(False)
    try:
        yield
    finally:
        setter(before)


def built_in_small_pages[F: Callable[..., Any]](method: F) -> F:
    """``method`` run inside :func:`small_pages` (for a model's constructor)."""

    @functools.wraps(method)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with small_pages():
            return method(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
