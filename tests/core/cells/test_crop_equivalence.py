"""The fast crops equal, pixel for pixel, the straightforward crops they replaced.

``reference_crop`` is the earlier implementation, kept here verbatim as the specification:
cut the whole square (fill outside the frame), draw and dilate the cell's mask over the whole
square, paint what is outside it, resize. ``cell_crop`` now works on a view of the frame and
dilates only the cell's own neighbourhood; the results must not change.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from cell_fields import discs_field, render_field

from allscope.core.cells.crops import MASK_MARGIN, cell_crop, crop_box
from allscope.core.cells.detect import Cell, detect_cells
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.sources.demo.slide import render_field as demo_field
from allscope.paths import shared_data_dir


def reference_crop(bgr, cell: Cell, size, scale, suppress, fill) -> np.ndarray:
    x, y, side = crop_box(cell, scale)
    height, width = bgr.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + side, width), min(y + side, height)
    square = np.empty((side, side, 3), np.uint8)
    square[:] = fill
    if x1 > x0 and y1 > y0:
        square[y0 - y : y1 - y, x0 - x : x1 - x] = bgr[y0:y1, x0:x1]
    if suppress:
        keep = np.zeros((side, side), np.uint8)
        contour = (cell.contour - np.array([x, y], np.int32)).reshape(-1, 1, 2)
        cv2.drawContours(keep, [contour], 0, 255, cv2.FILLED)
        radius = max(1, int(round(MASK_MARGIN * cell.diameter_px)))
        disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
        square[cv2.dilate(keep, disc) == 0] = fill
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(square, (size, size), interpolation=interpolation)


def assert_same_crops(field: np.ndarray, size: int = 64) -> int:
    cells = detect_cells(field, lab_kmeans_mask(field))
    for cell in cells:
        for scale, suppress, fill in ((1.5, True, (208, 208, 208)), (1.5, False, (208, 208, 208)),
                                      (3.0, True, (0, 40, 255)), (1.1, True, (0, 0, 0))):
            expected = reference_crop(field, cell, size, scale, suppress, fill)
            np.testing.assert_array_equal(cell_crop(field, cell, size, scale, suppress, fill),
                                          expected, err_msg=f"cell {cell.index} scale {scale}")
    return len(cells)


@pytest.mark.parametrize("scale", [1.0, 2.5, 5.0])
def test_crops_at_every_magnification_are_unchanged(scale):
    assert assert_same_crops(render_field(scale)) >= 1


def test_cells_cut_by_the_frame_edge_are_unchanged():
    field = discs_field([(190, 100), (8, 8), (100, 195), (100, 100)], radius=20)
    assert sum(c.touches_border for c in detect_cells(field)) >= 2
    assert assert_same_crops(field, size=40) >= 3


@pytest.mark.parametrize("width, height", [(224, 224), (640, 480), (1920, 1080)])
def test_demo_slide_fields_give_unchanged_crops(width, height):
    field = demo_field(width, height, seed=11, n_wbc=6)[0]
    assert assert_same_crops(field) >= 3


def test_shared_all_fields_give_unchanged_crops():
    folder = shared_data_dir() / "all-fields"
    files = sorted(folder.rglob("*.jpg"))[::400]
    if not files:
        pytest.skip(f"{folder}: the shared B-ALL fields are not here")
    assert sum(assert_same_crops(cv2.imread(str(path))) for path in files) >= len(files)
