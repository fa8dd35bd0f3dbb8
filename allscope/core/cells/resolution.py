"""Working resolution of the cell stages: large cells are found and cut on a reduced copy.

A cell's crop is resized to the model's input anyway (``crops``: its side is a multiple of
the cell's own diameter), so at high magnification a 1080p frame carries far more pixels per
cell than the classifier can use. ``working_scale`` picks the factor 1/k (k whole) at which
a typical crop is still at least about the model's input size, never enlarging; detection
and crops then run on the reduced frame and mask, and each cell is mapped back to the
frame's own pixels, so boxes, contours, areas and diameters are always in source-image
pixels.
"""

from __future__ import annotations

import dataclasses
import math

import cv2
import numpy as np

from allscope.core.cells.detect import Cell
from allscope.core.results import MaskResult

WORTH_IT = 0.5  # reduce only when the frame can shrink at least by half
MARGIN = 1.25  # keep the typical crop this much larger than the model's input


def working_scale(mask: MaskResult, model_size: int, crop_scale: float) -> float:
    """The factor (<= 1) for the cell stages, from the mask's typical component size."""
    areas = [c.area for c in mask.candidates]
    if not areas:
        return 1.0
    diameter = 2.0 * math.sqrt(float(np.median(areas)) / math.pi)
    factor = MARGIN * model_size / max(crop_scale * diameter, 1.0)
    if factor >= WORTH_IT:
        return 1.0
    return 1.0 / math.floor(1.0 / factor)  # 1/k: OpenCV's area average is fastest for whole k


def reduced(bgr: np.ndarray, mask: MaskResult, factor: float) -> tuple[np.ndarray, MaskResult]:
    """The frame (area-averaged) and its mask (nearest) at ``factor`` of their size."""
    height, width = bgr.shape[:2]
    size = (max(1, round(width * factor)), max(1, round(height * factor)))
    small = cv2.resize(bgr, size, interpolation=cv2.INTER_AREA)
    small_mask = cv2.resize(mask.mask, size, interpolation=cv2.INTER_NEAREST)
    return small, dataclasses.replace(mask, mask=small_mask, masked=small, candidates=())


def in_frame_pixels(cell: Cell, factor: float, shape: tuple[int, ...]) -> Cell:
    """A cell found at ``factor`` of the frame's size, in the frame's own pixels."""
    x, y, w, h = cell.bbox
    up = 1.0 / factor
    x0, y0 = int(math.floor(x * up)), int(math.floor(y * up))
    x1 = min(int(math.ceil((x + w) * up)), shape[1])
    y1 = min(int(math.ceil((y + h) * up)), shape[0])
    contour = np.round((cell.contour.astype(np.float64) + 0.5) * up - 0.5).astype(np.int32)
    return dataclasses.replace(
        cell,
        bbox=(x0, y0, x1 - x0, y1 - y0),
        contour=contour,
        area_px=int(round(cell.area_px * up * up)),
        centroid=((cell.centroid[0] + 0.5) * up - 0.5, (cell.centroid[1] + 0.5) * up - 0.5),
        diameter_px=cell.diameter_px * up,
    )
