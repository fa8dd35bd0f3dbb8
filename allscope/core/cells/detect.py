"""White cells of one field: the paper's mask, touching cells split, one record per cell.

The LAB K-means mask (``allscope.core.mask.lab_kmeans``) finds white-cell pixels; a mask component
can hold several touching cells. Each component's distance transform peaks once per round
cell, so markers are the regions where the distance exceeds a fraction of the frame's
typical cell radius, and a watershed on the inverted distance gives one region per marker.
Everything is measured relative to that typical radius, never in absolute pixels, so the
same slide splits the same way at any objective, camera or frame size.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from allscope.core.mask.lab_kmeans import lab_kmeans_mask, validate_bgr
from allscope.core.results import MaskResult

MARKER_FRACTION = 0.7  # marker = distance above this fraction of the typical cell radius
MIN_PIECE_FRACTION = 0.7  # a split piece under this fraction of a typical cell's area rejoins
MIN_CELL_RADIUS_FRACTION = 0.3  # thinner components (platelets, debris) are dropped
GLASS_BAND = 0.1  # glass: lightness within this fraction of the glass-to-nucleus range of glass
GLASS_PERCENTILE = 99  # the glass level: this percentile of the lightness outside the mask
UNKNOWN = 255  # glass map: no evidence (white-cell mask, outside the frame)
MAX_GLASS_IN_NOTCH = 0.1  # two pieces whose notch is less glass than this are one cell's lobes
CYTOPLASM_MARGIN = 0.5  # lobes of one cell: stained this far (× lobe radius) out, not glass
MIN_NOTCH_SEEN = 0.5  # judge a notch only where most of it is seen (not mask, in the frame)
WAIST_DEPTH = 0.25  # a cut is a waist when both its ends lie this deep (× piece radius) in the hull
BEND_NECK = 0.5  # a bend's cut is this thick (half-width × piece radius): chromatin, not contact


@dataclass(frozen=True, slots=True)
class Cell:
    """One white cell of a field, in the field's pixel coordinates."""

    index: int  # 0-based, in reading order (top to bottom, then left to right)
    bbox: tuple[int, int, int, int]  # x, y, width, height
    contour: np.ndarray = field(repr=False)  # int32 (N, 2) outer border, x, y
    area_px: int
    centroid: tuple[float, float]  # x, y
    diameter_px: float  # equivalent diameter: sqrt(4 * area / pi)
    touches_border: bool  # part of the cell may lie outside the frame


def detect_cells(
    bgr: np.ndarray,
    mask: MaskResult | None = None,
    *,
    min_radius_fraction: float = MIN_CELL_RADIUS_FRACTION,
) -> list[Cell]:
    """Every white cell of a BGR field; ``mask`` reuses a mask already computed for it.

    ``min_radius_fraction`` drops mask components whose largest inscribed radius is below
    that fraction of the frame's typical cell radius (platelet clumps, debris); 0 keeps all.
    """
    bgr = validate_bgr(bgr)
    if mask is None:
        mask = lab_kmeans_mask(bgr)
    if mask.mask.shape != bgr.shape[:2]:
        raise ValueError(
            f"the mask is {mask.mask.shape} but the field is {bgr.shape[:2]}; "
            "pass the MaskResult computed for this field"
        )
    components = _components(mask.mask)
    if not components:
        return []
    radius = typical_radius(components)
    glass = glass_map(bgr, mask.mask)
    pieces = []
    for x, y, solid, peak, dist in components:
        if peak < min_radius_fraction * radius:
            continue
        split = split_touching(solid, radius, dist)
        if len(split) > 1:
            split = join_bends(split, _frame_edge(bgr.shape[:2], x, y, solid.shape))
        if len(split) > 1:
            split = join_lobes(split, _window(glass, x, y, solid.shape))
        pieces += [(x, y, piece) for piece in split]
    cells = [_cell(x, y, piece, bgr.shape[:2]) for x, y, piece in pieces]
    cells.sort(key=lambda c: (round(c.centroid[1]), c.centroid[0]))
    return [_with_index(cell, i) for i, cell in enumerate(cells)]


# x, y, 0/255 crop with a 1 px margin, peak distance, the crop's distance transform
Component = tuple[int, int, np.ndarray, float, np.ndarray]


def _components(mask: np.ndarray) -> list[Component]:
    """Each outer-contour object of the mask, drawn alone (holes filled) in its own crop."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    parts = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        solid = np.zeros((h + 2, w + 2), np.uint8)
        cv2.drawContours(solid, [contour], 0, 255, cv2.FILLED, offset=(1 - x, 1 - y))
        dist = cv2.distanceTransform(solid, cv2.DIST_L2, 5)
        peak = float(dist.max())
        if peak > 0:
            parts.append((x - 1, y - 1, solid, peak, dist))
    return parts


def typical_radius(components: list[Component]) -> float:
    """The frame's typical cell radius: area-weighted median of the components' largest
    inscribed radii. Weighting by area lets white cells outvote small debris, and the
    inscribed radius of a clump of touching cells is still one cell's radius."""
    peaks = np.array([c[3] for c in components])
    weights = np.array([np.count_nonzero(c[2]) for c in components], dtype=np.float64)
    order = np.argsort(peaks)
    cumulative = np.cumsum(weights[order])
    return float(peaks[order][np.searchsorted(cumulative, cumulative[-1] / 2.0)])


def split_touching(
    solid: np.ndarray, radius: float, dist: np.ndarray | None = None
) -> list[np.ndarray]:
    """One 0/255 crop per cell of a component: markers where the distance transform exceeds
    ``MARKER_FRACTION`` × ``radius``, and each pixel given to its nearest marker.

    A convex cell has a single such region (its distance transform is concave), so only
    clumps with a waist are cut; for touching round cells the nearest-marker border runs
    through the waist, as a watershed of the distance would, without its plateau artefacts.
    Pieces smaller than ``MIN_PIECE_FRACTION`` of a typical cell's area are given back to
    the neighbour they border most rather than reported alone. ``dist`` is the crop's
    distance transform when it was already computed (``DIST_L2``, mask size 5).
    """
    if dist is None:
        dist = cv2.distanceTransform(solid, cv2.DIST_L2, 5)
    level = MARKER_FRACTION * min(radius, float(dist.max()))
    count, markers = cv2.connectedComponents((dist > level).astype(np.uint8), connectivity=8)
    if count <= 2:
        return [solid]
    seeds = np.where(markers > 0, 0, 255).astype(np.uint8)
    _, nearest = cv2.distanceTransformWithLabels(
        seeds, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_CCOMP
    )
    lookup = np.zeros(int(nearest.max()) + 1, np.int32)  # seed-region label → marker number
    lookup[nearest[markers > 0]] = markers[markers > 0]
    owner = lookup[nearest]
    pieces = [
        np.where((owner == i) & (solid > 0), 255, 0).astype(np.uint8) for i in range(1, count)
    ]
    return _merge_small(pieces, MIN_PIECE_FRACTION * math.pi * radius * radius)


def join_bends(pieces: list[np.ndarray], unseen: np.ndarray | None = None) -> list[np.ndarray]:
    """Pieces of one component joined where the cut between them is no waist.

    Two touching cells meet at a waist: the outline is notched at both ends of the cut
    between them, each notch at least ``WAIST_DEPTH`` × the thinner piece's inscribed radius
    inside the component's convex hull (two round cells cut apart have notches over 0.3 of
    it: a cut needs a neck under ``MARKER_FRACTION`` of the radius). A band or bent nucleus is
    cut where its thickness varies, but one end of such a cut lies on the outer, convex side
    of the bend, on the hull, and the cut crosses one strand of chromatin (it meets the
    outline exactly twice) at nearly its full thickness (half-width at least ``BEND_NECK`` ×
    the radius); a narrower neck or a ragged contact is between cells and stays cut. A
    component cut by the frame (it reaches ``unseen``: the frame's border pixels and beyond)
    is left as it is: part of its outline is the frame's edge. Other cuts stay.
    """
    union = functools.reduce(cv2.bitwise_or, pieces)
    if unseen is not None and np.any((union > 0) & (unseen > 0)):
        return pieces  # cut by the frame: its hull is the frame's, not the outline's
    contours, _ = cv2.findContours(union, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    hull = cv2.convexHull(np.vstack(contours))
    ring = np.ones((3, 3), np.uint8)
    inner = cv2.erode(union, ring, borderType=cv2.BORDER_CONSTANT, borderValue=0)
    edge = (union > 0) & (inner == 0)
    dist = cv2.distanceTransform(union, cv2.DIST_L2, 5)
    radii = [_inscribed(p) for p in pieces]
    group = list(range(len(pieces)))

    def root(i: int) -> int:
        while group[i] != i:
            i = group[i]
        return i

    for i, piece in enumerate(pieces):
        grown = cv2.dilate(piece, ring) > 0
        for j in range(i + 1, len(pieces)):
            cut = grown & (pieces[j] > 0)
            radius = min(radii[i], radii[j])
            if (
                cut.any()
                and float(dist[cut].max()) >= BEND_NECK * radius
                and _shallow_end(cut, edge, hull, WAIST_DEPTH * radius)
            ):
                group[root(j)] = root(i)
    joined: dict[int, np.ndarray] = {}
    for i, piece in enumerate(pieces):
        r = root(i)
        joined[r] = piece if r not in joined else cv2.bitwise_or(joined[r], piece)
    return list(joined.values())


def _shallow_end(cut: np.ndarray, edge: np.ndarray, hull: np.ndarray, depth: float) -> bool:
    """Whether an end of ``cut`` (where it meets the outline ``edge``) lies less than
    ``depth`` inside ``hull``: on the convex side of the outline, not in a notch."""
    ends = (cv2.dilate(cut.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0) & edge
    count, labels = cv2.connectedComponents(ends.astype(np.uint8), connectivity=8)
    if count != 3:
        return False  # a cut across one strand of chromatin meets the outline twice
    for k in range(1, count):
        ys, xs = np.nonzero(labels == k)
        points = zip(xs.tolist(), ys.tolist(), strict=True)
        deepest = max(cv2.pointPolygonTest(hull, (float(x), float(y)), True) for x, y in points)
        if deepest < depth:
            return True
    return False


def glass_map(bgr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per pixel of the field: 1 where it is bare glass (background), 0 where something
    stained lies (a cell's cytoplasm, a red cell, a nucleus).

    The glass level is the field's bright end outside the white-cell mask (90th percentile
    of the LAB lightness), the nucleus level the median lightness inside the mask; glass is
    within ``GLASS_BAND`` of that range below the glass level. Both levels come from the
    field itself, so the test follows the lamp, the camera and the stain.
    """
    lightness = cv2.extractChannel(cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab), 0)
    inside = mask > 0
    if inside.all() or not inside.any():
        return np.where(inside, UNKNOWN, 0).astype(np.uint8)
    glass = float(np.percentile(lightness[~inside], GLASS_PERCENTILE))
    nucleus = float(np.median(lightness[inside]))
    level = glass - GLASS_BAND * max(glass - nucleus, 0.0)
    return np.where(inside, UNKNOWN, lightness >= level).astype(np.uint8)


def _window(image: np.ndarray, x: int, y: int, shape: tuple[int, ...]) -> np.ndarray:
    """``image`` over the crop at (x, y) of ``shape``; pixels outside the frame are 255."""
    out = np.full(shape[:2], 255, np.uint8)
    h, w = image.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + shape[1], w), min(y + shape[0], h)
    if x1 > x0 and y1 > y0:
        out[y0 - y : y1 - y, x0 - x : x1 - x] = image[y0:y1, x0:x1]
    return out


def _frame_edge(frame: tuple[int, ...], x: int, y: int, shape: tuple[int, ...]) -> np.ndarray:
    """The crop at (x, y) of ``shape``: 255 on the frame's border pixels and beyond it, else 0
    (only for a component that was split)."""
    h, w = frame[:2]
    rows, cols = np.arange(y, y + shape[0]), np.arange(x, x + shape[1])
    edge = ((rows <= 0) | (rows >= h - 1))[:, None] | ((cols <= 0) | (cols >= w - 1))[None, :]
    return np.where(edge, 255, 0).astype(np.uint8)


def join_lobes(pieces: list[np.ndarray], glass: np.ndarray) -> list[np.ndarray]:
    """The pieces of one component as one cell when they are lobes of one nucleus (a
    segmented or band neutrophil, a folded monocyte nucleus); else unchanged.

    Lobes of one nucleus lie inside one cell's cytoplasm; touching cells have glass beyond
    their nuclei at the waists between them. So look at the notches between the pieces
    ``CYTOPLASM_MARGIN`` × the thinnest piece's inscribed radius out from the nuclei: the
    pieces' joint convex hull grown by that margin, less each piece's hull grown by it.
    When they are stained there (under ``MAX_GLASS_IN_NOTCH`` of them glass), every piece
    is inside one cell and the component is one cell. The scant cytoplasm rim of touching
    blasts or lymphocytes is thinner than the margin, so their notches reach the glass.
    All or nothing: in a clump of several cells, a notch between two of them filled by a
    third cell's cytoplasm joins nothing; where most of the notches are white-cell mask or
    outside the frame, nothing is decided.

    ``glass`` is ``glass_map`` over the component's crop (``UNKNOWN`` outside the frame).
    """
    bare = _notch_glass(pieces, glass)
    if bare is None or bare >= MAX_GLASS_IN_NOTCH:
        return pieces
    return [functools.reduce(cv2.bitwise_or, pieces)]


def _notch_glass(group: list[np.ndarray], glass: np.ndarray) -> float | None:
    """The glass fraction of the notches between the pieces of ``group`` at the cytoplasm
    margin (None: too little of them seen to judge)."""
    radius = min(_inscribed(p) for p in group)
    margin = max(1, int(round(CYTOPLASM_MARGIN * radius)))
    pad = margin + 1
    group = [cv2.copyMakeBorder(p, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0) for p in group]
    seen_glass = cv2.copyMakeBorder(glass, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=UNKNOWN)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1))
    union = np.zeros_like(group[0])
    grown = np.zeros_like(group[0])
    for piece in group:
        union |= piece
        grown |= cv2.dilate(_hull(piece), disc)
    notch = (cv2.dilate(_hull(union), disc) > 0) & (grown == 0)
    seen = notch & (seen_glass != UNKNOWN)
    if not seen.any() or np.count_nonzero(seen) <= MIN_NOTCH_SEEN * np.count_nonzero(notch):
        return None
    return float(np.count_nonzero(seen_glass[seen])) / float(np.count_nonzero(seen))


def _inscribed(piece: np.ndarray) -> float:
    return float(cv2.distanceTransform(piece, cv2.DIST_L2, 5).max())


def _hull(piece: np.ndarray) -> np.ndarray:
    contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    out = np.zeros_like(piece)
    if contours:
        cv2.drawContours(out, [cv2.convexHull(np.vstack(contours))], 0, 255, cv2.FILLED)
    return out


def _merge_small(pieces: list[np.ndarray], min_area: float) -> list[np.ndarray]:
    """Give each piece under ``min_area`` to the kept piece it borders most."""
    pieces.sort(key=np.count_nonzero, reverse=True)
    kept = [p for p in pieces if np.count_nonzero(p) >= min_area] or pieces[:1]
    ring = np.ones((3, 3), np.uint8)
    for piece in pieces:
        if not any(piece is k for k in kept):
            grown = cv2.dilate(piece, ring)
            target = max(kept, key=lambda k: np.count_nonzero(cv2.bitwise_and(grown, k)))
            np.bitwise_or(target, piece, out=target)
    return kept


def _cell(x0: int, y0: int, piece: np.ndarray, shape: tuple[int, int]) -> Cell:
    contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contour = max(contours, key=cv2.contourArea).reshape(-1, 2) + np.array([x0, y0])
    moments = cv2.moments(piece, binaryImage=True)
    area = int(moments["m00"])
    cx, cy = x0 + moments["m10"] / area, y0 + moments["m01"] / area
    x, y, w, h = cv2.boundingRect(contour.astype(np.int32))
    border = x <= 0 or y <= 0 or x + w >= shape[1] or y + h >= shape[0]
    return Cell(
        -1,
        (x, y, w, h),
        contour.astype(np.int32),
        area,
        (float(cx), float(cy)),
        math.sqrt(4.0 * area / math.pi),
        border,
    )


def _with_index(cell: Cell, index: int) -> Cell:
    return Cell(
        index,
        cell.bbox,
        cell.contour,
        cell.area_px,
        cell.centroid,
        cell.diameter_px,
        cell.touches_border,
    )


def cell_mask(cell: Cell, shape: tuple[int, int]) -> np.ndarray:
    """A 0/255 mask of ``shape`` (H, W) holding the cell's filled contour."""
    out = np.zeros(shape, np.uint8)
    cv2.drawContours(out, [cell.contour.reshape(-1, 1, 2)], 0, 255, cv2.FILLED)
    return out
