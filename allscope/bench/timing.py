"""The one timer of the benchmarks: run a function repeatedly, report milliseconds.

Benchmarks time everything in one process, side by side, after a warm-up call; they report
medians and the 95th percentile, never single runs. Tests never assert these figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import cv2
import numpy as np


def time_ms(function: Callable[[], object], repeats: int, *, warm_up: bool = True) -> list[float]:
    """Wall-clock milliseconds of ``repeats`` calls (after one untimed warm-up call)."""
    if warm_up:
        function()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1e3)
    return samples


def summary(samples_ms: list[float]) -> dict[str, float]:
    """Median and 95th percentile of millisecond samples, rounded to the microsecond."""
    values = np.asarray(samples_ms, dtype=np.float64)
    return {
        "median_ms": round(float(np.median(values)), 3),
        "p95_ms": round(float(np.percentile(values, 95)), 3),
    }


@contextmanager
def opencv_threads(threads: int | None) -> Iterator[None]:
    """OpenCV limited to ``threads`` inside the block (None: the setting is left alone)."""
    if threads is None:
        yield
        return
    previous = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)


def timed_summary(function: Callable[[], Any], repeats: int) -> dict[str, float]:
    """``summary(time_ms(function, repeats))``: the common case in one call."""
    return summary(time_ms(function, repeats))
