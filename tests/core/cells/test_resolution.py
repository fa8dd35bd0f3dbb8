"""Large cells judged on a reduced copy of the frame give the same cells, in the frame's own
pixels, and the same verdicts as judging at full resolution."""

from __future__ import annotations

import numpy as np
import pytest

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.crops import cell_crops
from allscope.core.cells.detect import detect_cells
from allscope.core.cells.field import judge_cells
from allscope.core.cells.resolution import working_scale
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.sources.demo.slide import render_field
from allscope.testing import write_tiny_cells_package


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / (aw * ah + bw * bh - w * h)


def test_a_1080p_field_is_judged_on_a_reduced_copy_with_the_same_cells(tmp_path):
    model = CellClassifier(write_tiny_cells_package(tmp_path / "c", size=32))
    bgr = render_field(1920, 1080, seed=11, n_wbc=8, kinds=("blast", "lymphocyte"))[0]
    mask = lab_kmeans_mask(bgr)
    assert working_scale(mask, model.size, model.crop.scale) <= 0.5
    full = detect_cells(bgr, mask)
    judged = judge_cells(model, bgr, mask)
    assert judged.judged and len(judged.calls) == len(full) >= 6
    probabilities, _ = model.predict_crops(cell_crops(bgr, full, model.size, model.crop))
    for cell, call, p_full in zip(full, judged.calls, probabilities[:, 0], strict=True):
        assert iou(cell.bbox, call.cell.bbox) > 0.85
        assert call.cell.diameter_px == pytest.approx(cell.diameter_px, rel=0.05)
        assert np.hypot(*np.subtract(cell.centroid, call.cell.centroid)) < 0.05 * cell.diameter_px
        assert call.p_blast == pytest.approx(p_full, abs=0.03)


def test_small_cells_stay_at_full_resolution(tmp_path):
    model = CellClassifier(write_tiny_cells_package(tmp_path / "c", size=224))
    bgr = render_field(640, 480, seed=3, n_wbc=4)[0]
    assert working_scale(lab_kmeans_mask(bgr), model.size, model.crop.scale) == 1.0
