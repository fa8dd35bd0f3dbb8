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


def shifted(parts: Components, dx: int, dy: int) -> Components:
    stats, centroids = parts.stats.copy(), parts.centroids + (dx, dy)
    stats[:, 0] += dx
    stats[:, 1] += dy
    return Components(stats, centroids)


def clean_region(
    fg: np.ndarray, min_object: int, min_hole: int, image_edges: Edges
) -> tuple[np.ndarray, Components]:
    """Clean one region; ``image_edges`` says which sides (left, top, right, bottom) are the
    frame's border: pockets may touch those, while every other side borders background."""
    kept = np.zeros((fg.shape[0] + 2, fg.shape[1] + 2), dtype=np.uint8)  # padded by one
    parts = _solid_objects(fg, min_object, out=kept[1:-1, 1:-1])
    if parts.stats.shape[0] == 0:
        return np.zeros_like(fg), parts
    if _may_have_pockets(parts, fg.shape, image_edges, min_hole):
        if _fill_pockets(kept, min_hole, image_edges):
            inner = kept[1:-1, 1:-1].copy()
            return inner, _solid_objects(inner, 0)  # filling may have joined objects
    return kept[1:-1, 1:-1].copy(), parts


def _solid_objects(fg: np.ndarray, min_area: int, out: np.ndarray | None = None) -> Components:
    """The 8-connected objects of ``fg`` with holes filled, keeping those of ``min_area``
    pixels or more (drawn into ``out`` when given).

    Each object is traced by its outer border; drawing that border filled gives the object
    with its holes (and anything inside them) filled, exactly as ``binary_fill_holes``.
    Objects whose box is smaller than ``min_area`` cannot reach it and are not drawn.
    """
    contours, _ = cv2.findContours(fg, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    rows, centroids = [], []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if w * h < min_area:
            continue
        solid = np.zeros((h, w), dtype=np.uint8)
        cv2.drawContours(solid, [contour], 0, 255, cv2.FILLED, offset=(-x, -y))
        area, (cx, cy) = _area_and_centroid(solid)
        if area < min_area:
            continue
        if out is not None:
            box = out[y : y + h, x : x + w]
            np.bitwise_or(box, solid, out=box)
        rows.append((x, y, w, h, area))
        centroids.append((x + cx, y + cy))
    if not rows:
        return no_components()
    return Components(np.array(rows, dtype=np.int32), np.array(centroids, dtype=np.float64))


def _area_and_centroid(solid: np.ndarray) -> tuple[int, tuple[float, float]]:
    """Pixel count and centroid of a 0/255 image (column and row sums: faster than moments)."""
    columns = cv2.reduce(solid, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    rows = cv2.reduce(solid, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    total = float(columns.sum())
    if total == 0:
        return 0, (0.0, 0.0)
    return int(total) // 255, (
        float(columns @ np.arange(columns.size)) / total,
        float(rows @ np.arange(rows.size)) / total,
    )


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


def _fill_pockets(kept: np.ndarray, min_hole: int, image_edges: Edges) -> bool:
    """Fill, in place, background regions smaller than ``min_hole`` that do not reach a side
    of the region that is not the frame border. Returns whether anything was filled.

    ``kept`` is padded by one pixel; the padding on frame sides is made foreground so that
    regions touching the frame border are not joined through it. Holes are already filled,
    so every remaining background region reaches an open side or the frame border: flood
    fills from those sides measure each region (far cheaper than 4-connected labelling).
    """
    height, width = kept.shape
    for is_edge, index in zip(image_edges, _SIDES):
        kept[index] = 255 if is_edge else 0
    probe = kept.copy()
    pad_seeds = ((0, 1), (1, 0), (width - 1, 1), (1, height - 1))
    for is_edge, (x, y) in zip(image_edges, pad_seeds):
        if not is_edge and probe[y, x] == 0:
            cv2.floodFill(probe, None, (x, y), 128, flags=4)  # open to the outside
    pockets = []
    while (seed := _border_background(probe)) is not None:
        area, *_ = cv2.floodFill(probe, None, seed, 128, flags=4)
        if area < min_hole:
            pockets.append(seed)
    for seed in pockets:
        cv2.floodFill(kept, None, seed, 255, flags=4)
    return bool(pockets)


def _border_background(probe: np.ndarray) -> tuple[int, int] | None:
    """(x, y) of a background pixel on the first or last row or column inside the padding."""
    height, width = probe.shape
    for index, to_point in (
        (np.s_[1, 1:-1], lambda i: (i + 1, 1)),
        (np.s_[height - 2, 1:-1], lambda i: (i + 1, height - 2)),
        (np.s_[1:-1, 1], lambda i: (1, i + 1)),
        (np.s_[1:-1, width - 2], lambda i: (width - 2, i + 1)),
    ):
        hits = np.flatnonzero(probe[index] == 0)
        if hits.size:
            return to_point(int(hits[0]))
    return None


_SIDES = (np.s_[:, 0], np.s_[0, :], np.s_[:, -1], np.s_[-1, :])  # left, top, right, bottom


