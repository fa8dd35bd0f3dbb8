"""Timing of the WBC mask (and of the reference pipeline) for ``allscope bench``.

Timings run on one OpenCV thread by default, the setting the targets are stated for; the
previous thread count is restored afterwards. The field is ``synthetic.synthetic_field``.
"""

from __future__ import annotations

import functools

from allscope.bench.synthetic import synthetic_field
from allscope.bench.timing import opencv_threads, timed_summary
from allscope.core.mask.lab_kmeans import LiveMasker, lab_kmeans_mask

DEFAULT_SIZES = ((224, 224), (640, 480), (1920, 1080))

Timings = dict[str, dict[str, float]]


def benchmark_mask(
    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES, repeats: int = 50, *, warm: bool = False,
    threads: int | None = 1,
) -> Timings:
    """Median and p95 ms of the mask per size, keyed ``"WxH"``.

    Cold start (``lab_kmeans_mask``) by default; ``warm`` times a ``LiveMasker`` that has
    seen the field before, as on a still live field. ``threads`` is OpenCV's thread count
    during the timing (1: the condition the targets are stated for).
    """
    results: Timings = {}
    with opencv_threads(threads):
        for width, height in sizes:
            field = synthetic_field(width, height)
            masker = LiveMasker() if warm else lab_kmeans_mask
            # the warm-up call also primes a LiveMasker's centres
            results[f"{width}x{height}"] = timed_summary(functools.partial(masker, field), repeats)
    return results


def benchmark_reference_mask(
    sizes: tuple[tuple[int, int], ...] = DEFAULT_SIZES, repeats: int = 3, *,
    threads: int | None = 1, n_init: int = 1,
) -> Timings:
    """The same timing for the reference pipeline; ImportError without the test extra.

    ``n_init=1`` (scikit-learn's default, one k-means++ start) is the reference's fastest
    setting, so the speed-up reported against it is the smallest. The first warm-up call
    also imports scikit-learn, scipy and scikit-image.
    """
    from threadpoolctl import threadpool_limits  # comes with scikit-learn

    from allscope.evaluation.reference_mask import reference_mask

    results: Timings = {}
    with opencv_threads(threads), threadpool_limits(limits=threads):
        for width, height in sizes:
            field = synthetic_field(width, height)
            run = functools.partial(reference_mask, field, n_init=n_init)
            results[f"{width}x{height}"] = timed_summary(run, repeats)
    return results
