"""Crops of single cells whose framing does not depend on magnification.

A crop is a square centred on the cell whose side is a fixed multiple of the cell's own
equivalent diameter, resized to the model input. The same cell therefore fills the crop
the same way in a 224² field, a 640×480 frame, a 1080p frame or a ~100 px single-cell image,
and the classifier never learns the objective or the camera from the cell's size. Parts of
the square outside the frame are filled, never stretched.

The background-suppressed variant keeps the cell's mask, dilated by a margin relative to
the diameter (the mask holds mostly the nucleus), and paints everything else a neutral grey:
neighbouring cells, red cells and the laboratory's background colour disappear.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import cv2
import numpy as np

from allscope.core.cells.detect import Cell
from allscope.core.model_package import CropSpec

DEFAULT_CROP = CropSpec()
MASK_MARGIN = 0.15  # suppressed crops keep the cell mask dilated by this × the diameter


def crop_box(cell: Cell, scale: float) -> tuple[int, int, int]:
    """(x, y, side) of the square cut for ``cell`` in image pixels (may leave the frame)."""
    side = max(2, int(round(scale * cell.diameter_px)))
    cx, cy = cell.centroid
    return int(round(cx - side / 2.0)), int(round(cy - side / 2.0)), side


def cell_crop(
    bgr: np.ndarray,
    cell: Cell,
    size: int,
    scale: float = DEFAULT_CROP.scale,
    suppress_background: bool = DEFAULT_CROP.suppress_background,
    fill: tuple[int, int, int] = DEFAULT_CROP.fill,
) -> np.ndarray:
    """A ``size``×``size`` uint8 BGR crop of ``cell`` (side = ``scale`` × its diameter).

    With ``suppress_background`` only the cell's dilated mask keeps its pixels; the rest,
    like any part of the square outside the frame, is ``fill``.
    """
    x, y, side = crop_box(cell, scale)
    square = _cut(bgr, x, y, side, fill)
    if suppress_background:
        square = cv2.copyTo(square, _cell_mask_in(cell, x, y, side), _filled(side, fill))
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(square, (size, size), interpolation=interpolation)


def cell_crops(
    bgr: np.ndarray, cells: Sequence[Cell], size: int, crop: CropSpec = DEFAULT_CROP
) -> np.ndarray:
    """Crops of every cell of a field as one (N, size, size, 3) uint8 batch."""
    out = np.empty((len(cells), size, size, 3), np.uint8)
    for i, cell in enumerate(cells):
        out[i] = cell_crop(bgr, cell, size, crop.scale, crop.suppress_background, crop.fill)
    return out


def _cut(bgr: np.ndarray, x: int, y: int, side: int, fill: tuple[int, int, int]) -> np.ndarray:
    """The square [x, x+side) × [y, y+side) of ``bgr``, ``fill`` outside the frame: a view of
    the frame when the square lies inside it (only the crop's own pixels are ever touched)."""
    height, width = bgr.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + side, width), min(y + side, height)
    if x1 <= x0 or y1 <= y0:
        return _filled(side, fill)
    inside = bgr[y0:y1, x0:x1]
    if (x0, y0, x1, y1) == (x, y, x + side, y + side):
        return inside
    return cv2.copyMakeBorder(inside, y0 - y, y + side - y1, x0 - x, x + side - x1,
                              cv2.BORDER_CONSTANT, value=fill)


def _filled(side: int, fill: tuple[int, int, int]) -> np.ndarray:
    """A new side × side BGR square of ``fill``: a copy of one made once per side."""
    return _fill_template(side, tuple(int(v) for v in fill)).copy()


@functools.lru_cache(maxsize=256)
def _fill_template(side: int, fill: tuple[int, ...]) -> np.ndarray:
    """A side × side square of ``fill`` (read-only), filled a row at a time: numpy
    broadcasts a 3-value pixel over an image several times slower."""
    square = np.empty((side, side * 3), np.uint8)
    square[:] = np.tile(np.asarray(fill, np.uint8), side)
    square.setflags(write=False)
    return square.reshape(side, side, 3)


@functools.lru_cache(maxsize=64)
def _disc(radius: int) -> np.ndarray:
    """The elliptical structuring element of ``radius`` (made once per radius)."""
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    disc.setflags(write=False)
    return disc


def _cell_mask_in(cell: Cell, x: int, y: int, side: int) -> np.ndarray:
    """The cell's filled contour, dilated by ``MASK_MARGIN`` × diameter, in crop coordinates.

    Drawn and dilated only over the cell's box grown by the margin (clipped to the crop):
    nothing outside it can be reached by the dilation, so the mask is the same as over the
    whole crop, for a fraction of the work."""
    radius = max(1, int(round(MASK_MARGIN * cell.diameter_px)))
    bx, by, bw, bh = cv2.boundingRect(cell.contour.reshape(-1, 1, 2))
    left, top = max(bx - x - radius, 0), max(by - y - radius, 0)
    right, bottom = min(bx - x + bw + radius, side), min(by - y + bh + radius, side)
    mask = np.zeros((side, side), np.uint8)
    if right <= left or bottom <= top:
        return mask
    region = np.zeros((bottom - top, right - left), np.uint8)
    contour = (cell.contour - np.array([x + left, y + top], np.int32)).reshape(-1, 1, 2)
    cv2.drawContours(region, [contour], 0, 255, cv2.FILLED)
    mask[top:bottom, left:right] = cv2.dilate(region, _disc(radius))
    return mask
