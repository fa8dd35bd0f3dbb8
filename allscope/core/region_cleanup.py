"""Exact clean-up of one region of a binary mask: fill holes, drop small objects, fill pockets.

A region is either the whole frame or a box around one group of objects (see
``mask_cleanup``). Sides of the box that are not the frame border are treated as open
background, so a background region reaching them is never a pocket.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Edges = tuple[bool, bool, bool, bool]  # left, top, right, bottom: True where the frame ends


@dataclass(frozen=True, slots=True)
class Components:
    """8-connected components of the cleaned mask: stats rows are x, y, w, h, area."""

    stats: np.ndarray  # int32 (n, 5)
    centroids: np.ndarray  # float64 (n, 2)


def no_components() -> Components:
    return Components(np.zeros((0, 5), np.int32), np.zeros((0, 2)))


def _components(mask: np.ndarray) -> Components:
    _, _, stats, centroids = cv2.connectedComponentsWithStatsWithAlgorithm(
        mask, 8, cv2.CV_32S, cv2.CCL_BBDT
    )
    return Components(stats[1:].copy(), centroids[1:].copy())


def shifted(parts: Components, dx: int, dy: int) -> Components:
    stats, centroids = parts.stats.copy(), parts.centroids + (dx, dy)
    stats[:, 0] += dx
    stats[:, 1] += dy
    return Components(stats, centroids)


def clean_region(
    fg: np.ndarray, min_object: int, min_hole: int, image_edges: Edges
) -> tuple[np.ndarray, Components]:
    """Clean one region; ``image_edges`` says which sides (left, top, right, bottom) are the
    frame's border: pockets may touch those, while every other side borders background.

    Objects whose box is smaller than ``min_object`` cannot reach it even with their holes
    filled, so only the few larger ones are filled, each within its own box.
    """
    _, labels, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(
        fg, 8, cv2.CV_32S, cv2.CCL_BBDT
    )
    big = np.flatnonzero(stats[:, cv2.CC_STAT_WIDTH] * stats[:, cv2.CC_STAT_HEIGHT] >= min_object)
    big = big[big > 0]
    if big.size > _MAX_BOXWISE:
        return clean_region_dense(fg, min_object, min_hole, image_edges)
    kept = np.zeros((fg.shape[0] + 2, fg.shape[1] + 2), dtype=np.uint8)  # padded by one
    inner = kept[1:-1, 1:-1]
    rows, centroids = [], []
    for j in big[np.argsort(-(stats[big, 2] * stats[big, 3]), kind="stable")]:
        x, y, w, h = (int(v) for v in stats[j, :4])
        box = np.s_[y : y + h, x : x + w]
        own = labels[box] == j
        if inner[box][own].any():
            continue  # an island inside the filled hole of a larger object
        solid = _filled(own)
        moments = cv2.moments(solid, binaryImage=True)
        if moments["m00"] < min_object:
            continue
        inner[box] |= solid
        rows.append((x, y, w, h, int(moments["m00"])))
        centroids.append((x + moments["m10"] / moments["m00"], y + moments["m01"] / moments["m00"]))
    if not rows:
        return np.zeros_like(fg), no_components()
    parts = Components(np.array(rows, dtype=np.int32), np.array(centroids, dtype=np.float64))
    if _may_have_pockets(parts, fg.shape, image_edges, min_hole):
        if _fill_pockets(kept, min_hole, image_edges):
            inner = kept[1:-1, 1:-1].copy()
            return inner, _components(inner)  # filling may have joined objects
    return kept[1:-1, 1:-1].copy(), parts


_MAX_BOXWISE = 48  # beyond this many large objects, one pass over the region is faster


def _filled(own: np.ndarray) -> np.ndarray:
    """0/255 image of one object (bool, in its box) with its holes filled."""
    padded = np.zeros((own.shape[0] + 2, own.shape[1] + 2), dtype=np.uint8)
    padded[1:-1, 1:-1][own] = 255
    cv2.floodFill(padded, None, (0, 0), 128, flags=4)
    return np.where(padded[1:-1, 1:-1] != 128, np.uint8(255), np.uint8(0))


def _may_have_pockets(
    parts: Components, shape: tuple[int, int], image_edges: Edges, min_hole: int
) -> bool:
    """False when no object touches a frame side and the background is large: hole-free
    objects apart from the border leave one background region, which touches the border."""
    x, y, w, h = (parts.stats[:, i] for i in range(4))
    left, top, right, bottom = image_edges
    touches = (
        (left & (x == 0))
        | (top & (y == 0))
        | (right & (x + w == shape[1]))
        | (bottom & (y + h == shape[0]))
    )
    background = shape[0] * shape[1] - int(parts.stats[:, 4].sum())
    return bool(touches.any()) or (all(image_edges) and background < min_hole)


def clean_region_dense(
    fg: np.ndarray, min_object: int, min_hole: int, image_edges: Edges
) -> tuple[np.ndarray, Components]:
    """``clean_region`` with one flood fill over the whole region, for crowded masks."""
    padded = cv2.copyMakeBorder(fg, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    cv2.floodFill(padded, None, (0, 0), 128, flags=4)  # background reachable from outside
    filled = cv2.compare(padded, 128, cv2.CMP_NE)  # objects with their holes filled
    _, labels, stats, centroids = cv2.connectedComponentsWithStatsWithAlgorithm(
        filled, 8, cv2.CV_32S, cv2.CCL_BBDT
    )
    keep = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] >= min_object)
    keep = keep[keep > 0]
    if keep.size == 0:
        return np.zeros_like(fg), no_components()
    kept = _select_labels(labels, stats, keep)
    filled_pockets = any(image_edges) and _fill_pockets(kept, min_hole, image_edges)
    inner = kept[1:-1, 1:-1].copy()
    if filled_pockets:  # filling may have joined objects: count them again
        return inner, _components(inner)
    return inner, Components(stats[keep] - (1, 1, 0, 0, 0), centroids[keep] - 1.0)


def _select_labels(labels: np.ndarray, stats: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """0/255 image of the components ``keep``, drawn box by box when they are few."""
    if keep.size > 32:
        table = np.zeros(stats.shape[0], dtype=np.uint8)
        table[keep] = 255
        return table[labels]
    out = np.zeros(labels.shape, dtype=np.uint8)
    for j in keep:
        x, y, w, h = stats[j, :4]
        box = np.s_[y : y + h, x : x + w]
        out[box][labels[box] == j] = 255
    return out


def _fill_pockets(
    kept: np.ndarray, min_hole: int, image_edges: Edges
) -> bool:
    """Fill, in place, background regions smaller than ``min_hole`` that do not reach a side
    of the region that is not the frame border. Returns whether anything was filled.

    ``kept`` is padded by one pixel; the padding on frame sides is made foreground so that
    regions touching the frame border are not joined through it.
    """
    sides = [(edge, index) for edge, index in zip(image_edges, _SIDES)]
    for is_edge, index in sides:
        kept[index] = 255 if is_edge else 0
    if _single_large_background(kept, min_hole, image_edges):
        return False
    background = cv2.bitwise_not(kept)
    n, labels = cv2.connectedComponents(background, connectivity=4)
    areas = np.bincount(labels.ravel(), minlength=n)
    fill = areas < min_hole
    fill[0] = False
    for is_edge, index in sides:
        if not is_edge:
            fill[labels[index]] = False  # joined to the background outside the region
    if not fill.any():
        return False
    kept[fill[labels]] = 255
    return True


def _single_large_background(
    kept: np.ndarray, min_hole: int, image_edges: Edges
) -> bool:
    """Fast common case: all background is one region that is large or reaches outside.

    One flood fill from a background pixel on the border, then a count of what it missed;
    far cheaper than labelling the background (4-connected labelling is slow in OpenCV).
    """
    seed = _border_background_pixel(kept, image_edges)
    if seed is None:
        return False
    probe = kept.copy()
    area, *_ = cv2.floodFill(probe, None, seed, 255, flags=4)
    outside = not all(image_edges)  # the seed lies on a side open to the outside
    return (outside or area >= min_hole) and cv2.countNonZero(probe) == probe.size


def _border_background_pixel(
    kept: np.ndarray, image_edges: Edges
) -> tuple[int, int] | None:
    """A background pixel on the padding of an open side, or else on the frame border."""
    height, width = kept.shape
    open_sides = [i for i, edge in enumerate(image_edges) if not edge]
    if open_sides:
        side = open_sides[0]
        return {0: (0, 1), 1: (1, 0), 2: (width - 1, 1), 3: (1, height - 1)}[side]
    for index, to_point in (
        (np.s_[1, 1:-1], lambda i: (i + 1, 1)),
        (np.s_[-2, 1:-1], lambda i: (i + 1, height - 2)),
        (np.s_[1:-1, 1], lambda i: (1, i + 1)),
        (np.s_[1:-1, -2], lambda i: (width - 2, i + 1)),
    ):
        hits = np.flatnonzero(kept[index] == 0)
        if hits.size:
            return to_point(int(hits[0]))
    return None


_SIDES = (np.s_[:, 0], np.s_[0, :], np.s_[:, -1], np.s_[-1, :])  # left, top, right, bottom


