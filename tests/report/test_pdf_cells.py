"""Representative fields of a session whose cells were judged: the cells are the verdict in the
text, each called blast is enlarged under its field, dismissed cells and fields are visibly
set aside. A real tiny OpenVINO cells package judges rendered cells; a real PDF is read back."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from report_helpers import needs, pdf_text
from store_helpers import field_result, session_info

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.report.cell_insets import called_blasts
from allscope.report.pdf import write_pdf
from allscope.testing import write_tiny_cells_package

sys.path.insert(0, str(Path(__file__).parents[1] / "core" / "cells"))
from cell_fields import discs_field


def words(path, page=None) -> str:
    return " ".join(pdf_text(path, page).split())


@pytest.fixture
def judged_session(store, tmp_path):
    """One saved field whose three cells a package with threshold 0.01 all calls blast."""
    model = CellClassifier(write_tiny_cells_package(tmp_path / "cells", threshold=0.01))
    image = discs_field([(60, 60), (110, 60), (150, 150)], radius=14)
    mask = lab_kmeans_mask(image)
    result = dataclasses.replace(field_result(1), cells=judge_cells(model, image, mask))
    sid = store.create_session(session_info(cell_model="tiny-cells 0 (test)"))
    field = store.add_field(sid, "flag", image, mask.mask, result)
    store.end_session(sid)
    return sid, field


def test_called_blasts_follow_the_review(store, judged_session):
    sid, field = judged_session
    cells = store.cells(field_id=field.id)
    assert len(called_blasts(cells)) == 3
    store.review_cell(cells[0].id, "reclassify", "lymphocyte", reviewer="dr")
    store.review_cell(cells[1].id, "dismiss", reviewer="dr")
    assert [c.id for c in called_blasts(store.cells(field_id=field.id))] == [cells[2].id]


@needs("pdftotext")
def test_field_text_speaks_cells_and_each_called_blast_gets_an_inset(store, judged_session,
                                                                      tmp_path, qapp):
    sid, field = judged_session
    text = words(write_pdf(store, sid, tmp_path / "a.pdf"))
    assert "Cells: 3 white cell(s), 3 called blast (highest P(blast)" in text
    assert "Top class:" not in text  # the field model's class is not the verdict
    assert "Flag threshold a cell called blast" in text and "P(ALL) ≥" not in text
    assert "Field model's top class (subtype reader)" in text
    for number in (1, 2, 3):
        assert f"{number} · P(blast)" in text  # the inset captions
    first = store.cells(field_id=field.id)[0]
    store.review_cell(first.id, "dismiss", reviewer="dr")
    text = words(write_pdf(store, sid, tmp_path / "b.pdf"))
    assert "Cells: 2 white cell(s), 2 called blast" in text
    assert "1 dismissed by the reviewer" in text and "3 · P(blast)" not in text


@needs("pdftoppm")
def test_the_insets_are_drawn_in_red_boxes_under_the_field(store, judged_session, tmp_path, qapp):
    """The page with the field shows the three red inset frames; without cells it has none."""
    sid, _ = judged_session
    report = write_pdf(store, sid, tmp_path / "c.pdf")
    plain = store.create_session(session_info())
    image = discs_field([(60, 60), (110, 60), (150, 150)], radius=14)
    store.add_field(plain, "flag", image, lab_kmeans_mask(image).mask, field_result(2))
    store.end_session(plain)
    without = write_pdf(store, plain, tmp_path / "d.pdf")

    def red_pixels(path: Path) -> int:
        out = tmp_path / path.stem
        subprocess.run(["pdftoppm", "-r", "60", "-f", "3", "-l", "3", "-png", str(path), str(out)],
                       check=True)
        import cv2

        page = cv2.imread(str(next(tmp_path.glob(f"{path.stem}*.png"))))
        b, g, r = (page[..., i].astype(int) for i in range(3))
        return int(np.count_nonzero((r > 170) & (g < 80) & (b < 80)))

    assert red_pixels(report) > 3 * red_pixels(without) + 50
