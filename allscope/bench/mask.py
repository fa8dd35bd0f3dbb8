"""Timing of the WBC mask (and of the reference pipeline) for ``allscope bench``.

Timings run on one OpenCV thread by default, the setting the targets are stated for; the
previous thread count is restored afterwards. The field is a small procedural smear (pink
background, pale red cells, purple nuclei) so that the mask has real work to do.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import cv2
import numpy as np

from allscope.core.mask.lab_kmeans import LiveMasker, lab_kmeans_mask

DEFAULT_SIZES = ((224, 224), (640, 480), (1920, 1080))

_BACKGROUND = (222, 215, 230)  # BGR; LAB a about 134
_RED_CELL = (212, 203, 227)  # a about 137: below the 141 cut
_NUCLEUS = (150, 45, 110)  # a about 175
_CYTOPLASM = (215, 195, 205)


def synthetic_field(width: int, height: int, seed: int = 0, wbcs: int = 3) -> np.ndarray:
    """A smear-like BGR field: shaded background, pale red cells with central pallor, and
    ``wbcs`` white cells (purple lobed nucleus in light cytoplasm), with sensor noise."""
    rng = np.random.default_rng(seed)
    scale = min(width, height) / 224.0
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:] = _BACKGROUND
    for _ in range(int(rng.integers(8, 14) * width * height / (224 * 224 * scale * scale))):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        radius = max(2, int(rng.uniform(14, 18) * scale))
        cv2.circle(image, center, radius, _RED_CELL, -1, cv2.LINE_AA)
        cv2.circle(image, center, radius // 3, _BACKGROUND, -1, cv2.LINE_AA)
    for center in _spread_centers(rng, width, height, wbcs, margin=30 * scale, gap=62 * scale):
        cv2.circle(image, center, max(3, int(26 * scale)), _CYTOPLASM, -1, cv2.LINE_AA)
        for _ in range(int(rng.integers(1, 4))):
            offset = rng.normal(0, 6 * scale, 2)
            lobe = (int(center[0] + offset[0]), int(center[1] + offset[1]))
            axes = (max(2, int(rng.uniform(10, 16) * scale)),
                    max(2, int(rng.uniform(8, 13) * scale)))  # fmt: skip
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(image, lobe, axes, angle, 0, 360, _NUCLEUS, -1, cv2.LINE_AA)
    shade = np.linspace(0.93, 1.04, width, dtype=np.float32)[None, :, None]
    image = cv2.GaussianBlur(image * shade, (0, 0), 1.0 * scale)
    image += rng.normal(0.0, 2.5, image.shape).astype(np.float32)
    return np.clip(image, 0, 255).astype(np.uint8)


def _spread_centers(rng, width, height, count, margin, gap) -> list[tuple[int, int]]:
    """Up to ``count`` random points inside the margin, at least ``gap`` apart."""
    centers: list[tuple[int, int]] = []
    for _ in range(200 * count):
        if len(centers) == count:
            break
        x, y = rng.uniform(margin, width - margin), rng.uniform(margin, height - margin)
        if all((x - cx) ** 2 + (y - cy) ** 2 >= gap * gap for cx, cy in centers):
            centers.append((int(x), int(y)))
    return centers


def _time_ms(function: Callable[[], object], repeats: int) -> dict[str, float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000.0)
    return {"median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))}


def _with_threads(threads: int | None, function: Callable[[], dict]) -> dict:
    """Run ``function`` with OpenCV limited to ``threads`` (None: leave the setting alone)."""
    if threads is None:
        return function()
    previous = cv2.getNumThreads()
    cv2.setNumThreads(threads)
    try:
        return function()
    finally:
        cv2.setNumThreads(previous)


def benchmark_mask(
    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES,
    repeats: int = 50,
    *,
    warm: bool = False,
    threads: int | None = 1,
) -> dict[str, dict[str, float]]:
    """Median and p95 ms of the mask per size, keyed ``"WxH"``.

    Cold start (``lab_kmeans_mask``) by default; ``warm`` times a ``LiveMasker`` that has
    seen the field before, as on a still live field. ``threads`` is OpenCV's thread count
    during the timing (1: the condition the targets are stated for).
    """

    def run() -> dict:
        results = {}
        for width, height in sizes:
            field = synthetic_field(width, height)
            masker = LiveMasker() if warm else lab_kmeans_mask
            masker(field)  # warm caches, allocations and, for a LiveMasker, the centres
            results[f"{width}x{height}"] = _time_ms(functools.partial(masker, field), repeats)
        return results

    return _with_threads(threads, run)


def benchmark_reference_mask(
    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES,
    repeats: int = 3,
    *,
    threads: int | None = 1,
    n_init: int = 1,
) -> dict[str, dict[str, float]]:
    """The same timing for the reference pipeline; ImportError without the test extra.

    ``n_init=1`` (scikit-learn's default, one k-means++ start) is the reference's fastest
    setting, so the speed-up reported against it is the smallest.
    """
    from allscope.evaluation.reference_mask import reference_mask

    def run() -> dict:
        from threadpoolctl import threadpool_limits  # comes with scikit-learn

        with threadpool_limits(limits=threads):  # scikit-learn's OpenMP threads too
            return run_sizes()

    def run_sizes() -> dict:
        results = {}
        for width, height in sizes:
            field = synthetic_field(width, height)
            run_reference = functools.partial(reference_mask, field, n_init=n_init)
            if not results:
                run_reference()  # the first call imports scikit-learn, scipy, scikit-image
            results[f"{width}x{height}"] = _time_ms(run_reference, repeats)
        return results

    return _with_threads(threads, run)
