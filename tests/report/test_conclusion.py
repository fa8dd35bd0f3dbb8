"""Page 1 of the report (the conclusion a lab files), the sign-off, and which fields are drawn."""

from __future__ import annotations

import subprocess
import unicodedata

import cv2
import numpy as np
import pytest
from report_helpers import needs, pdf_text
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.core.cells.tally import Tally
from allscope.core.cells.tally import wilson_interval as wilson
from allscope.core.store import StoreError
from allscope.report.conclusion import short_id, shown_fields
from allscope.report.pdf import write_pdf


def words(path, page=None) -> str:
    return " ".join(pdf_text(path, page).split())


def test_wilson_interval_matches_the_published_example():
    # Newcombe (1998), table I: 81 of 263 -> 0.2553 to 0.3662
    low, high = wilson(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson(0, 0) == (0.0, 1.0)
    assert wilson(0, 10)[0] == 0.0


@needs("pdftotext")
def test_page_one_states_the_review_counts_and_is_a_draft_until_signed(
    store, session_id, tmp_path, qapp
):
    text = words(write_pdf(store, session_id, tmp_path / "r.pdf"), 1)
    assert "Report status: DRAFT: not signed" in text  # both flags of the fixture carry a decision
    assert "Fields analysed 12" in text
    assert "Fields flagged as suspicious 2 (16.7% of analysed)" in text
    assert "1 accepted, 1 dismissed, 0 flagged not yet reviewed" in text
    assert "Reviewed by" in text and "Verified by" in text


@needs("pdftotext")
def test_signed_report_is_final_and_names_the_signers(store, session_id, tmp_path, qapp):
    store.sign(session_id, "reviewed", "Dr. Ahmadi")
    store.sign(session_id, "verified", "Dr. Li")
    text = words(write_pdf(store, session_id, tmp_path / "r.pdf"), 1)
    assert "Report status: FINAL" in text and "DRAFT" not in text
    assert "Reviewed by Dr. Ahmadi" in text and "Verified by Dr. Li" in text


def test_signing_is_refused_while_a_flag_is_unreviewed_or_the_session_runs(store, qapp):
    sid = store.create_session(session_info())
    result = field_result(1, 0.9)
    field = store.add_field(sid, "flag", *field_image(1), result, flag_for(result))
    with pytest.raises(StoreError, match="still running"):
        store.sign(sid, "reviewed", "Dr. A")
    store.end_session(sid)
    with pytest.raises(StoreError, match="1 flagged field"):
        store.sign(sid, "reviewed", "Dr. A")
    store.review(field.id, "dismiss", "artefact", "Dr. A")
    assert store.sign(sid, "reviewed", "Dr. A").name == "Dr. A"
    assert [s.role for s in store.signatures(sid)] == ["reviewed"]


@needs("pdftotext")
def test_identification_and_cell_tally_on_page_one(store, qapp, tmp_path):
    sid = store.create_session(
        session_info(accession="H26-004211", date_of_birth="1978-02-14", clinician="Dr. R. Moreau")
    )
    store.end_session(sid)
    tally = Tally(wbc=200, blasts=30, per_class={"blast": 30, "lymphocyte": 120, "neutrophil": 50})
    text = words(write_pdf(store, sid, tmp_path / "r.pdf", tally=tally), 1)
    assert "Report / accession no. H26-004211" in text
    assert "born 1978-02-14" in text and "Requesting clinician Dr. R. Moreau" in text
    assert "White cells examined 200" in text
    assert "lymphocyte 120, neutrophil 50, blast 30" in text
    assert "Blasts 30 of 200 = 15.0% (95% interval 10.7–20.6%, Wilson)" in text


@needs("pdftotext")
def test_long_identifiers_are_shortened_in_page_headers(store, tmp_path, qapp):
    long_id = "PATIENT-" + "7" * 120
    sid = store.create_session(session_info(patient_id=long_id))
    store.end_session(sid)
    path = write_pdf(store, sid, tmp_path / "r.pdf")
    header = pdf_text(path, 2).splitlines()[0]
    assert unicodedata.normalize("NFKC", short_id(long_id)) in header and long_id not in header
    assert long_id in "".join(
        pdf_text(path, 1).split()
    )  # the full ID stays in the identification block


@needs("pdftotext")
def test_each_field_names_the_policy_in_force_when_it_was_saved(store, tmp_path, qapp):
    sid = store.create_session(
        session_info(threshold=0.5, flag_policy={"threshold": 0.5}), started_at=1000.0
    )
    result = field_result(1, 0.9)
    field = store.add_field(sid, "flag", *field_image(1), result, flag_for(result))
    store.record_policy(sid, 0.8, {"threshold": 0.8}, at=field.created_at + 1)
    store.end_session(sid)
    text = words(write_pdf(store, sid, tmp_path / "r.pdf"))
    assert "Policy in force: P(ALL) ≥ 0.50" in text
    assert "Flag policy at start P(ALL) ≥ 0.50" in text and "P(ALL) ≥ 0.80" in text


def test_shown_fields_are_accepted_plus_the_most_suspicious_unreviewed_up_to_a_cap(store):
    sid = store.create_session(session_info())
    fields = []
    for i in range(20):
        result = field_result(i, 0.5 + i * 0.02)
        fields.append(store.add_field(sid, "flag", *field_image(i), result, flag_for(result)))
    store.review(fields[0].id, "accept", "", "Dr. A")
    store.review(fields[1].id, "dismiss", "", "Dr. A")
    shown = shown_fields(store.fields(sid), unreviewed_cap=5, dismissed_cap=1)
    assert [f.id for f in shown] == [fields[0].id, fields[1].id] + [f.id for f in fields[15:]]


@needs("pdftoppm")
def test_a_dismissed_field_is_drawn_greyed_unlike_an_accepted_one(store, tmp_path, qapp):
    sid = store.create_session(session_info())
    saved = []
    for i, decision in enumerate(("accept", "dismiss")):
        result = field_result(i, 0.9)
        image = np.full((300, 400, 3), (40, 20, 160), np.uint8)  # saturated red (BGR)
        saved.append(
            store.add_field(
                sid, "flag", image, np.zeros((300, 400), np.uint8), result, flag_for(result)
            )
        )
        store.review(saved[-1].id, decision, "", "Dr. A")
    store.end_session(sid)
    path = write_pdf(store, sid, tmp_path / "r.pdf")
    subprocess.run(
        ["pdftoppm", "-r", "40", "-f", "3", "-l", "3", "-png", str(path), str(tmp_path / "p")],
        check=True,
    )
    page = cv2.imread(str(next(tmp_path.glob("p*.png"))))
    hsv = cv2.cvtColor(page, cv2.COLOR_BGR2HSV)
    strong = (hsv[..., 1] > 150) & ((hsv[..., 0] < 10) | (hsv[..., 0] > 165))  # saturated red
    rows = np.flatnonzero(strong.any(axis=1))
    assert rows.size, "the accepted field should be drawn in its own colours"
    top_half = strong[: page.shape[0] // 2].sum()
    bottom_half = strong[page.shape[0] // 2 :].sum()
    assert top_half > 20 * max(1, bottom_half)  # the dismissed (second) field is washed out


def test_a_batch_of_many_flags_stays_a_few_pages_long(store, tmp_path, qapp):
    """Per-field detail goes to CSV/JSON: 150 flagged fields give the same short report."""
    from test_pdf import page_count

    sid = store.create_session(session_info())
    for i in range(150):
        result = field_result(i, 0.5 + (i % 50) / 100)
        store.add_field(sid, "flag", *field_image(i, 60, 80), result, flag_for(result))
    store.end_session(sid)
    pages = page_count(write_pdf(store, sid, tmp_path / "r.pdf"))
    assert pages <= 12, pages


@needs("pdftotext")
def test_fields_carry_a_scale_bar_when_the_session_has_a_scale(store, tmp_path, qapp):
    sid = store.create_session(session_info(um_per_px=0.1))
    result = field_result(1, 0.9)
    store.add_field(sid, "flag", *field_image(1, 480, 640), result, flag_for(result))
    store.end_session(sid)
    text = words(write_pdf(store, sid, tmp_path / "r.pdf"))
    micro = unicodedata.normalize("NFKC", "µ")  # pdftotext's text is NFKC: the micro sign is mu
    assert f"Microscope scale 0.1 {micro}m per pixel" in text and f"10 {micro}m" in text
    plain = store.create_session(session_info())
    store.end_session(plain)
    assert "Microscope scale not set" in words(write_pdf(store, plain, tmp_path / "p.pdf"))
@needs("pdftotext")
def test_page_one_states_the_sessions_cell_tally_with_reviews_applied(store, tmp_path, qapp):
    import dataclasses
    import sys
    from pathlib import Path

    from allscope.core.cells.classifier import CellClassifier
    from allscope.core.cells.field import judge_cells
    from allscope.core.cells.tracking import CellTracker
    from allscope.core.mask.lab_kmeans import lab_kmeans_mask
    from allscope.testing import write_tiny_cells_package

    sys.path.insert(0, str(Path(__file__).parents[1] / "core" / "cells"))
    from cell_fields import discs_field

    model = CellClassifier(write_tiny_cells_package(tmp_path / "cells"))
    image = discs_field([(60, 60), (110, 60), (150, 150)], radius=14)
    mask = lab_kmeans_mask(image)
    cells = judge_cells(model, image, mask)
    tracker = CellTracker(model.classes)
    ids = tuple(tracker.update((0.0, 0.0), cells))
    judged = dataclasses.replace(cells, track_ids=ids)
    result = dataclasses.replace(field_result(1), cells=judged, origin=(0.0, 0.0))
    sid = store.create_session(session_info())
    store.add_field(sid, "manual", image, mask.mask, result)
    store.record_tally(sid, tracker)
    store.end_session(sid)
    assert "White cells examined 3" in words(write_pdf(store, sid, tmp_path / "a.pdf"), 1)
    store.review_cell(store.cells(session_id=sid)[0].id, "dismiss", reviewer="dr")
    report = write_pdf(store, sid, tmp_path / "b.pdf")
    text = words(report, 1)
    assert "White cells examined 2" in text and "Blasts" in text and "Wilson" in text
    everything = words(report)
    assert "Cells by type (2 saved cells)" in everything
    assert "1 dismissed cell(s) are left out" in everything
