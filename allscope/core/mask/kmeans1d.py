"""Exact 1-D K-means on a histogram of 8-bit values.

The mask clusters the LAB a-channel of every pixel. Because the values are 8-bit, the
clustering of all pixels is the clustering of a 256-bin histogram weighted by counts: the
same result as K-means on every pixel, without sampling, at a cost independent of the frame
size. A cold start solves the problem *optimally* by dynamic programming (optimal 1-D
clusters are contiguous intervals of the sorted values), so its inertia is never worse than
any K-means run on the pixels. A warm start runs Lloyd's algorithm from given centres,
which keeps a live stream's clustering in the same basin from frame to frame.
"""

from __future__ import annotations

import functools

import numpy as np

_MAX_LLOYD_ITERATIONS = 100


def kmeans_1d_histogram(
    hist: np.ndarray, k: int, init_centers: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Cluster the values 0..len(hist)-1 weighted by ``hist`` into ``k`` clusters.

    Returns the sorted cluster centres (weighted means, float64) and the inertia (the
    weighted sum of squared distances to the nearest centre). Without ``init_centers`` the
    result is the global optimum; with them, the Lloyd fixed point reached from them (it
    falls back to the optimum when a cluster empties or the centres are unusable). When the
    histogram has at most ``k`` distinct values, each is its own cluster and fewer than
    ``k`` centres are returned.
    """
    values, weights = _nonzero_bins(hist, k)
    if values.size <= k:
        return values.astype(np.float64), 0.0
    if init_centers is not None:
        result = _lloyd(values, weights, np.asarray(init_centers, dtype=np.float64), k)
        if result is not None:
            return result
    return _optimal(values, weights, k)


def cluster_bounds(values: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each value (ties go to the lower centre)."""
    midpoints = (centers[1:] + centers[:-1]) / 2.0
    return np.searchsorted(midpoints, values, side="left")


def _nonzero_bins(hist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    hist = np.asarray(hist, dtype=np.float64).ravel()
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if hist.size == 0 or np.any(hist < 0) or not np.all(np.isfinite(hist)):
        raise ValueError("the histogram must be a non-empty array of finite, non-negative counts")
    values = np.flatnonzero(hist)
    return values.astype(np.float64), hist[values]


def _interval_stats(values: np.ndarray, weights: np.ndarray, labels: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    counts = np.bincount(labels, weights=weights, minlength=k)
    sums = np.bincount(labels, weights=weights * values, minlength=k)
    return counts, sums


def _inertia(values: np.ndarray, weights: np.ndarray, centers: np.ndarray) -> float:
    nearest = centers[cluster_bounds(values, centers)]
    return float(np.sum(weights * (values - nearest) ** 2))


def _lloyd(
    values: np.ndarray, weights: np.ndarray, centers: np.ndarray, k: int
) -> tuple[np.ndarray, float] | None:
    """Lloyd iterations on the weighted values; None when the start is unusable."""
    if centers.shape != (k,) or not np.all(np.isfinite(centers)):
        return None
    centers = np.sort(centers)
    labels = cluster_bounds(values, centers)
    for _ in range(_MAX_LLOYD_ITERATIONS):
        counts, sums = _interval_stats(values, weights, labels, k)
        if np.any(counts == 0):
            return None
        centers = sums / counts
        new_labels = cluster_bounds(values, centers)
        if np.array_equal(new_labels, labels):
            break
        labels = new_labels
    return centers, _inertia(values, weights, centers)


@functools.lru_cache(maxsize=8)
def _upper_triangle(n: int) -> np.ndarray:
    return np.triu(np.ones((n, n), dtype=bool), 1)


def _optimal(values: np.ndarray, weights: np.ndarray, k: int) -> tuple[np.ndarray, float]:
    """Globally optimal partition into k contiguous intervals, by dynamic programming."""
    n = values.size
    shifted = values - np.dot(values, weights) / weights.sum()  # limits cancellation below
    w = np.cumsum(np.concatenate(([0.0], weights)))
    s1 = np.cumsum(np.concatenate(([0.0], weights * shifted)))
    s2 = np.cumsum(np.concatenate(([0.0], weights * shifted * shifted)))
    # cost[j, i]: squared error of one cluster over values[i..j]; rows are contiguous for argmin
    seg_w = w[1:, None] - w[None, :-1]
    seg_s1 = s1[1:, None] - s1[None, :-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        cost = (s2[1:, None] - s2[None, :-1]) - seg_s1 * seg_s1 / seg_w
    cost[_upper_triangle(n)] = np.inf  # i > j: not an interval
    np.maximum(cost, 0.0, out=cost)
    best = cost[:, 0].copy()  # best[j]: one cluster over values[0..j]
    choice = np.zeros((k, n), dtype=np.intp)
    rows = np.arange(n)
    total = np.empty((n, n - 1))
    for m in range(1, k):
        np.add(cost[:, 1:], best[None, :-1], out=total)  # new cluster i..j after best[i-1]
        pick = total.argmin(axis=1)
        choice[m] = pick + 1
        best = total[rows, pick]
    starts, j = [], n - 1
    for m in range(k - 1, 0, -1):
        starts.append(choice[m, j])
        j = starts[-1] - 1
    labels = np.repeat(np.arange(k), np.diff(np.array([0, *starts[::-1], n])))
    counts, sums = _interval_stats(values, weights, labels, k)
    centers = sums / counts
    return centers, float(np.sum(weights * (values - centers[labels]) ** 2))
