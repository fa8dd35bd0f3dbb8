"""Cell crops: framed by the cell's own size, so magnification does not change them."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from cell_fields import BACKGROUND, discs_field, render_field

from allscope.core.cells.crops import cell_crop, cell_crops
from allscope.core.cells.detect import detect_cells
from allscope.core.model_package import CropSpec


def the_white_cell(field: np.ndarray):
    return max(detect_cells(field), key=lambda c: c.area_px)


@pytest.mark.parametrize("suppress", [False, True])
def test_the_same_cell_gives_the_same_crop_at_1x_2_5x_and_5x(suppress):
    crops = []
    for scale in (1.0, 2.5, 5.0):
        field = render_field(scale)
        crops.append(cell_crop(field, the_white_cell(field), 64, 1.5, suppress).astype(np.int16))
    for other in crops[1:]:
        assert np.abs(other - crops[0]).mean() < 4.0  # grey levels, of 255


def fixed_window(field: np.ndarray, half: int = 24) -> np.ndarray:
    x, y = (int(round(v)) for v in the_white_cell(field).centroid)
    return cv2.resize(field[y - half : y + half, x - half : x + half], (64, 64)).astype(np.int16)


def test_a_fixed_pixel_window_would_change_with_magnification():
    """The contrast case: the comparison above can fail, and does for fixed windows."""
    assert np.abs(fixed_window(render_field(5.0)) - fixed_window(render_field(1.0))).mean() > 20.0


def test_crop_side_follows_the_cell_diameter():
    field = render_field(1.0)
    cell = the_white_cell(field)
    wide = cell_crop(field, cell, 64, scale=3.0)
    tight = cell_crop(field, cell, 64, scale=1.2)
    # the cell (purple, low green) fills a larger share of the tight crop
    assert (tight[..., 1] < 170).mean() > 2.5 * (wide[..., 1] < 170).mean()


def test_suppressed_crop_paints_neighbours_with_the_fill():
    field = discs_field([(100, 100), (100, 140)], radius=12)  # a second cell 40 px below
    cell = min(detect_cells(field), key=lambda c: c.centroid[1])
    plain = cell_crop(field, cell, 48, scale=3.5)
    suppressed = cell_crop(field, cell, 48, scale=3.5, suppress_background=True, fill=(0, 0, 0))
    assert plain[-4:, 24].mean() < 200  # the neighbour is in the plain crop's bottom edge
    assert (suppressed[-4:, 20:28] == 0).all()
    assert (suppressed[24, 24] == plain[24, 24]).all()  # the cell itself is kept


def test_a_cell_at_the_frame_edge_is_padded_with_the_fill_not_stretched():
    field = discs_field([(190, 100)], radius=20)
    (cell,) = [c for c in detect_cells(field) if c.touches_border]
    crop = cell_crop(field, cell, 40, scale=2.0, fill=(0, 255, 0))
    assert (crop[:, -3:] == (0, 255, 0)).all()
    assert (crop[20, 5] == BACKGROUND).all()


def test_cell_crops_batches_every_cell_in_order():
    field = discs_field([(60, 60), (140, 140)], radius=15)
    cells = detect_cells(field)
    batch = cell_crops(field, cells, 32, CropSpec(scale=2.0))
    assert batch.shape == (len(cells), 32, 32, 3) and batch.dtype == np.uint8
    for crop, cell in zip(batch, cells, strict=True):
        np.testing.assert_array_equal(crop, cell_crop(field, cell, 32, scale=2.0))
