"""Reviewed cells of chosen sessions written as a labelled set for site adaptation: only cells a
person reviewed and kept, each under its current type, cropped around the cell; a field whose
image cannot be read is left out, not written as an empty crop."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import cv2
import pytest
from store_helpers import field_result, session_info

from allscope.app.cells_export import reviewed_cells_to_folder
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.store import SessionStore
from allscope.testing import write_tiny_cells_package

sys.path.insert(0, str(Path(__file__).parents[1] / "core" / "cells"))
from cell_fields import discs_field

CENTRES = [(60, 60), (120, 70), (100, 150), (186, 100)]  # the last one at the right edge


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "store") as s:
        yield s


def saved_session(store, model, centres=CENTRES) -> tuple[int, list]:
    image = discs_field(centres, radius=14)
    mask = lab_kmeans_mask(image)
    result = dataclasses.replace(field_result(1), cells=judge_cells(model, image, mask))
    sid = store.create_session(session_info(cell_model="tiny-cells 0 (test)"))
    field = store.add_field(sid, "flag", image, mask.mask, result)
    return sid, store.cells(field_id=field.id)


def test_only_reviewed_kept_cells_are_written_under_their_current_type(store, tmp_path):
    model = CellClassifier(write_tiny_cells_package(tmp_path / "cells"))
    sid, cells = saved_session(store, model)
    assert len(cells) == 4
    at = {c.bbox[0] + c.bbox[2] // 2: c for c in cells}  # by the x of each cell's centre
    accepted, moved, dismissed, edge = (at[x] for x in sorted(at, key=[60, 120, 100, 186].index))
    assert edge.bbox[0] + edge.bbox[2] >= 199
    store.review_cell(accepted.id, "accept", reviewer="dr")
    store.review_cell(moved.id, "reclassify", "lymphocyte", reviewer="dr")
    store.review_cell(dismissed.id, "dismiss", reviewer="dr")
    store.review_cell(edge.id, "accept", reviewer="dr")
    other, unreviewed = saved_session(store, model, [(100, 100)])
    out = tmp_path / "labelled"
    counts = reviewed_cells_to_folder(store, [sid, other], out)
    assert counts == {accepted.current_label: 2, "lymphocyte": 1}
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.png"))
    assert written == sorted([
        f"{accepted.current_label}/session{sid}-cell{accepted.id}.png",
        f"lymphocyte/session{sid}-cell{moved.id}.png",
        f"{edge.current_label}/session{sid}-cell{edge.id}.png",
    ])
    crop = cv2.imread(str(out / f"lymphocyte/session{sid}-cell{moved.id}.png"))
    x, y, w, h = moved.bbox
    assert crop.shape[:2] == (2 * max(w, h), 2 * max(w, h))  # twice the cell, centred
    clipped = cv2.imread(str(out / f"{edge.current_label}/session{sid}-cell{edge.id}.png"))
    assert clipped.shape[0] == 2 * max(edge.bbox[2:]) and clipped.shape[1] < clipped.shape[0]
    assert not store.cell_reviews(unreviewed[0].id)  # its session's only cell: not reviewed


def test_a_field_whose_image_cannot_be_read_is_left_out(store, tmp_path):
    model = CellClassifier(write_tiny_cells_package(tmp_path / "cells"))
    sid, cells = saved_session(store, model)
    for cell in cells:
        store.review_cell(cell.id, "accept", reviewer="dr")
    store.get_field(cells[0].field_id).image_path.write_bytes(b"")
    out = tmp_path / "labelled"
    assert reviewed_cells_to_folder(store, [sid], out) == {}
    assert not out.exists()
