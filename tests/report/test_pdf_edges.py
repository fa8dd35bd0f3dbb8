"""Reports at the edges, written for real and read back with poppler: a session without fields,
a laboratory logo, a field whose files are gone, a manifest that cannot be written, a field
with more called blasts than its inset row holds, and cell pictures whose field image is
damaged."""

from __future__ import annotations

import dataclasses
import errno
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from report_helpers import needs, pdf_text
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.store.files import WriteFailedError
from allscope.report.manifest import sidecar_path
from allscope.report.pdf import write_pdf
from allscope.testing import write_tiny_cells_package

sys.path.insert(0, str(Path(__file__).parents[1] / "core" / "cells"))
from cell_fields import discs_field

SIX = [(40, 60), (100, 60), (160, 60), (40, 140), (100, 140), (160, 140)]


def words(path, page=None) -> str:
    return " ".join(pdf_text(path, page).split())


def images(path) -> list[tuple[int, int, int]]:
    """(page, width, height) of every image in the PDF (poppler's pdfimages -list)."""
    out = subprocess.run(["pdfimages", "-list", str(path)], capture_output=True, check=True,
                         text=True).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    return [(int(r[0]), int(r[3]), int(r[4])) for r in rows]


@needs("pdftotext")
def test_a_session_without_fields_says_so(store, tmp_path, qapp):
    sid = store.create_session(session_info())
    store.end_session(sid)
    text = words(write_pdf(store, sid, tmp_path / "r.pdf"))
    assert "Representative fields (0 of 0 saved)" in text
    assert "No field was flagged or captured in this session." in text
    assert "Cells by type" not in text and "further saved field(s)" not in text


@needs("pdftotext")
def test_fields_left_out_of_the_report_are_counted_with_where_to_find_them(store, tmp_path,
                                                                             qapp):
    sid = store.create_session(session_info())
    for i in range(15):
        result = field_result(i, 0.9)
        store.add_field(sid, "flag", *field_image(i, 60, 80), result, flag_for(result))
    store.end_session(sid)
    text = words(write_pdf(store, sid, tmp_path / "r.pdf"))
    assert "Representative fields (12 of 15 saved)" in text
    assert "3 further saved field(s) are not drawn here" in text
    assert "(allscope sessions export)" in text


@needs("pdfimages")
def test_the_laboratory_logo_is_drawn_on_page_one(store, session_id, tmp_path, qapp):
    logo = tmp_path / "logo.png"
    cv2.imwrite(str(logo), np.full((80, 200, 3), (30, 120, 200), np.uint8))
    with_logo = write_pdf(store, session_id, tmp_path / "a.pdf", logo=logo)
    assert (1, 200, 80) in images(with_logo)
    # a logo that cannot be read leaves the header without it, the report is still made
    without = write_pdf(store, session_id, tmp_path / "b.pdf", logo=tmp_path / "missing.png")
    assert not [i for i in images(without) if i[0] == 1]


@needs("pdftotext")
def test_a_field_whose_files_are_gone_is_reported_not_drawn(store, session_id, tmp_path, qapp):
    gone = store.fields(session_id)[0]
    gone.image_path.unlink()
    gone.preview_path.unlink()
    gone.mask_path.unlink()
    report = write_pdf(store, session_id, tmp_path / "r.pdf")
    text = words(report)
    assert "Warning: image file missing or unreadable (No such file or directory)." in text
    assert text.count("unreadable ✗ CHANGED OR MISSING") == 2  # its image and its mask
    entry = json.loads(sidecar_path(report).read_text(encoding="utf-8"))["images"][0]
    assert (entry["field_id"], entry["verified"], entry["image_sha256"]) == (gone.id, False, None)
    assert len([i for i in images(report) if (i[1], i[2]) == (320, 240)]) == 2


def manifest_fails(handle, data: bytes) -> None:
    """Writes the report; the disk is full by the time its manifest is written."""
    if not data.startswith(b"%PDF-"):
        raise OSError(errno.ENOSPC, "No space left on device")
    handle.write(data)


def test_a_report_whose_manifest_cannot_be_written_is_not_left_behind(store, session_id,
                                                                     tmp_path, qapp):
    with pytest.raises(WriteFailedError, match="disk is full"):
        write_pdf(store, session_id, tmp_path / "r.pdf", writer=manifest_fails)
    assert list(tmp_path.glob("r*")) == [] and list(tmp_path.glob(".r*")) == []


def test_an_overwritten_report_comes_back_when_the_new_manifest_fails(store, session_id, tmp_path,
                                                                      qapp):
    report = write_pdf(store, session_id, tmp_path / "r.pdf")
    before, manifest = report.read_bytes(), sidecar_path(report).read_bytes()
    store.review(store.fields(session_id)[2].id, "accept", "changed since", "Dr. B")
    with pytest.raises(WriteFailedError, match="disk is full"):
        write_pdf(store, session_id, report, overwrite=True, writer=manifest_fails)
    assert report.read_bytes() == before and sidecar_path(report).read_bytes() == manifest
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "r.pdf", "r.pdf.manifest.json"]


@pytest.fixture
def six_blasts(store, tmp_path):
    """Two saved fields of six cells that a package with threshold 0.01 all calls blast; the
    second field is dismissed."""
    model = CellClassifier(write_tiny_cells_package(tmp_path / "cells", threshold=0.01))
    image = discs_field(SIX, radius=14)
    mask = lab_kmeans_mask(image)
    result = dataclasses.replace(field_result(1), cells=judge_cells(model, image, mask))
    sid = store.create_session(session_info(cell_model="tiny-cells 0 (test)"))
    kept = store.add_field(sid, "flag", image, mask.mask, result)
    dismissed = store.add_field(sid, "flag", image, mask.mask, result)
    store.review(dismissed.id, "dismiss", "artefact", "Dr. A")
    store.end_session(sid)
    return sid, kept, dismissed


@needs("pdftotext")
def test_blasts_beyond_the_inset_row_are_counted(store, six_blasts, tmp_path, qapp):
    sid, kept, dismissed = six_blasts
    assert len(store.cells(field_id=kept.id)) == 6
    text = words(write_pdf(store, sid, tmp_path / "r.pdf"))
    assert text.count("+2 more") == 2  # four insets fit beside the text, on both fields
    assert text.count("4 · P(blast)") == 2 and "5 · P(blast)" not in text
    assert "Cells: 6 white cell(s), 6 called blast" in text
    assert "Blast: 12" in text  # the cell pages: every saved cell under its type


@needs("pdftotext")
def test_cell_pictures_of_a_damaged_field_are_left_empty_with_their_captions(
        store, six_blasts, tmp_path, qapp):
    sid, kept, dismissed = six_blasts
    store.get_field(kept.id).image_path.write_bytes(b"")  # unreadable
    tiny = np.full((8, 8, 3), 200, np.uint8)  # readable, but the cells lie outside it
    cv2.imwrite(str(store.get_field(dismissed.id).image_path), tiny)
    report = write_pdf(store, sid, tmp_path / "r.pdf")
    text = words(report)
    for cell in store.cells(session_id=sid):
        assert f"no. {cell.id} P(blast) {cell.p_blast:.2f}" in text
    assert text.count("CHANGED OR MISSING") >= 2
    assert not [i for i in images(report) if (i[1], i[2]) == (160, 160)]  # no cell picture


def test_without_hard_links_the_previous_report_is_kept_by_a_copy(store, session_id, tmp_path,
                                                                  qapp, monkeypatch):
    """On a share or FAT stick that has no hard links, overwriting still keeps the previous
    report until the new one and its manifest are written."""
    report = write_pdf(store, session_id, tmp_path / "r.pdf")
    before = report.read_bytes()

    def no_hard_links(src, dst, *args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr("allscope.report.pdf.os.link", no_hard_links)
    with pytest.raises(WriteFailedError, match="disk is full"):
        write_pdf(store, session_id, report, overwrite=True, writer=manifest_fails)
    assert report.read_bytes() == before
    again = write_pdf(store, session_id, report, overwrite=True)
    assert again == report and sidecar_path(report).is_file()
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [
        "r.pdf", "r.pdf.manifest.json"]
