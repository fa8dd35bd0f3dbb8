"""The report's words, from real session records: times and durations, identification,
policies, each field's lines (outside the model's experience, not classified, flags raised by
cells, reviews), and the model section with and without a package."""

from __future__ import annotations

import dataclasses

from store_helpers import field_image, field_result, flag_for, session_info

from allscope.core.cells.tally import Tally
from allscope.core.model_package import InputSpec, ModelPackage
from allscope.core.ood import OUTSIDE
from allscope.core.store.cells import CellRecord
from allscope.report import content
from allscope.report.cell_insets import called_blasts, cells_line
from allscope.report.conclusion import Conclusion, short_id, shown_fields, tally_lines
from allscope.report.front_page import conclusion_rows


def package(tmp_path, **summary) -> ModelPackage:
    return ModelPackage(
        path=tmp_path, name="allscope-cnn", version="2.0", architecture="MobileNetV2",
        classes=("Benign", "Pre-B"), benign_class="Benign", input=InputSpec(), threshold=0.65,
        summary=summary or None, files={"model.xml": "a" * 64, "model.bin": "b" * 64},
    )


def test_times_durations_and_long_text_in_words():
    assert content.local_time(None) == "—" and content.iso_time(None) is None
    assert content.local_time(0.0, seconds=False).startswith("1970-01-01")
    assert content.duration_text(None) == "session not ended"
    assert content.duration_text(59.6) == "1 min 00 s"
    assert content.duration_text(3 * 3600 + 5 * 60 + 7) == "3 h 05 min 07 s"
    assert content.shorten("short", 10, "in the export") == "short"
    assert content.shorten("x" * 2000, 10, "in the export") == (
        "xxxxxxxxxx… [shortened here: 2,000 characters in full in the export]")


def test_session_details_say_what_was_not_stated(store):
    bare = store.get_session(store.create_session(session_info(
        patient_id="", operator="", lab_name="", source="", camera_settings={}, model_name="",
        model_version="", model_sha256="", app_version="")))
    rows = dict(content.metadata_rows(bare))
    assert rows["Patient / sample ID"] == "—" and rows["Date of birth / collection"] == (
        "— (not stated)")
    assert rows["Report / accession no."] == f"not stated (session no. {bare.id})"
    assert rows["Model"] == rows["Camera settings"] == rows["Notes"] == "—"
    assert rows["Microscope scale"] == "not set" and rows["Ended"] == "not ended"
    full = store.get_session(store.create_session(session_info(
        date_of_birth="1990-01-02", collection_date="2026-12-01", um_per_px=0.125,
        notes="n" * 2000)))
    rows = dict(content.metadata_rows(full))
    assert rows["Date of birth / collection"] == "born 1990-01-02, collected 2026-12-01"
    assert rows["Microscope scale"] == "0.125 µm per pixel"
    assert rows["Camera settings"] == "exposure: -6"
    assert rows["Notes"].endswith("[shortened here: 2,000 characters in full in the JSON export]")


def test_policies_in_words_by_the_field_model_or_by_cells(store):
    sid = store.create_session(session_info(threshold=None, flag_policy={"consecutive": 5}))
    store.record_policy(sid, 0.8, {"threshold": 0.8}, at=2e9)
    first, changed = store.policies(sid)
    assert content.policy_text(first) == "— (consecutive: 5)"
    assert content.policy_text(changed) == "P(ALL) ≥ 0.80"
    assert content.policy_text(changed, by_cells=True) == content.CELL_RULE
    rows = content.policy_rows([first, changed])
    assert rows[0][0] == "Flag policy at start" and rows[1][0].startswith("Changed at ")
    summary = dataclasses.replace(store.summary(sid), threshold=None)
    assert dict(content.summary_rows(summary))["Flag threshold"] == "—"
    assert dict(content.summary_rows(summary))["Top class per classified field"] == (
        "none classified")


def test_field_lines_for_outside_unclassified_and_cell_flags(store):
    sid = store.create_session(session_info())
    outside = dataclasses.replace(field_result(1), assessable=False, probabilities=None,
                                  label=None, p_all=None, reasons=(OUTSIDE,), ood_score=4.25)
    saved = store.add_field(sid, "manual", *field_image(1), outside, None)
    text = content.field_text(saved, 1, 3)
    assert "captured by hand" in text
    assert "Outside the model's experience (score 4.25): the model abstained" in text
    assert f"Not classified ({OUTSIDE})" in text and "Review: not reviewed" in text
    no_score = dataclasses.replace(outside, ood_score=None, reasons=(OUTSIDE,))
    saved = store.add_field(sid, "manual", *field_image(2), no_score, None)
    assert "Outside the model's experience: the model abstained" in content.field_text(saved, 2, 3)
    silent = dataclasses.replace(outside, reasons=(), name="", path="/slides/f.png")
    saved = store.add_field(sid, "manual", *field_image(3), silent, None)
    lines = content.field_text(saved, 3, 3).split("\n")
    assert lines[1] == "From: /slides/f.png (camera 0)" and lines[2] == (
        "Not classified (no classification)")
    flag = dataclasses.replace(flag_for(field_result(4)), p_blast=0.87)
    saved = store.add_field(sid, "flag", *field_image(4), flag.result, flag)
    assert "flag: frames 4–8, strongest P(blast) 0.87" in content.field_text(saved, 1, 1)


def test_a_review_names_its_reviewer_or_says_it_is_unknown(store):
    sid = store.create_session(session_info())
    saved = store.add_field(sid, "manual", *field_image(1), field_result(1), None)
    store.review(saved.id, None, "look again " + "c" * 600, "")
    [reviewed] = store.fields(sid)
    text = content.review_text(reviewed)
    assert text.startswith("Review: No decision by unknown reviewer, ")
    assert "\nComment: look again" in text and "600" not in text
    assert "[shortened here: 611 characters in full in the JSON export]" in text


def test_the_model_section_without_a_package_names_what_the_session_recorded(store):
    bare = store.get_session(store.create_session(session_info(model_name="", model_version="",
                                                               model_sha256="")))
    assert content.model_rows(bare, None) == [
        ("Model", "none recorded"), ("SHA-256", "—"),
        ("Model figures", "not available when this report was made")]
    recorded = store.get_session(store.create_session(session_info()))
    assert content.model_rows(recorded, None)[0] == ("Model", "allscope-cnn 1.0")
    assert content.figure_rows(None) == []
    assert "(" not in content.limitations_text(None)  # no figure measured elsewhere to name


def test_the_model_section_of_a_package_notes_a_model_other_than_the_sessions(store, tmp_path):
    session = store.get_session(store.create_session(session_info()))
    other = package(tmp_path, intended_use="Screening of smears", citation="ALL-IDB",
                    threshold_rule=3, metrics=[
                        {"metric": "ECE", "value": 0.031, "split": "test"},
                        {"metric": "sensitivity", "value": 0.97, "ci95": [0.9], "split": "test"},
                        {"metric": "fields per second", "value": 41.5},
                        {"metric": "no value", "value": "high"}, "not a metric"])
    rows = dict(content.model_rows(session, other))
    assert rows["Note"] == "this is not the model recorded for the session (SHA-256 differs)"
    assert rows["Intended use"] == "Screening of smears" and rows["Training data"] == "ALL-IDB"
    assert "How the threshold was chosen" not in rows  # not words: left out
    assert rows["Recommended threshold"] == "P(ALL) ≥ 0.65"
    assert content.figure_rows(other) == [
        ("ECE", "0.031", "test"), ("sensitivity", "97.0%", "test"),
        ("fields per second", "41.5", "not stated")]
    same = package(tmp_path)
    session = dataclasses.replace(session, info=dataclasses.replace(session.info,
                                                                    model_sha256=same.sha256))
    assert "Note" not in dict(content.model_rows(session, same))


def test_conclusion_status_and_rows_follow_the_review_and_the_signatures(store):
    sid = store.create_session(session_info())
    result = field_result(1, 0.9)
    field = store.add_field(sid, "flag", *field_image(1), result, flag_for(result))
    fields = store.fields(sid)
    running = Conclusion(0, 1, 0, 0, 0, 1, (), ended=False)
    assert running.status_text() == (
        "DRAFT: the session has not ended; 1 flagged field(s) not reviewed; not signed")
    assert dict(conclusion_rows(running, fields))["Fields flagged as suspicious"] == "1"
    assert tally_lines(None, fields)[0][1].endswith("white-cell regions outlined in the saved "
                                                     "fields: 1")
    store.review(field.id, "accept", "", "Dr. A")
    store.end_session(sid)
    reviewed = store.sign(sid, "reviewed", "Dr. A")
    signed = Conclusion(10, 1, 0, 1, 0, 0, (reviewed,), ended=True)
    assert signed.final and signed.status_text() == "FINAL (awaiting verification)"
    assert signed.verified_by is None and signed.reviewed_by == reviewed


def test_short_identifiers_keep_both_ends():
    assert short_id("P-1") == "P-1"
    assert short_id("ABCDEFGHIJ", limit=5) == "AB…IJ"
    assert len(short_id("x" * 100)) == 32


def cell(cell_id: int, p_blast: float, label: str = "blast", current: str | None = None,
         decision: str | None = None) -> CellRecord:
    return CellRecord(
        id=cell_id, field_id=1, session_id=1, cell_index=cell_id, bbox=(0, 0, 10, 10),
        contour=((0, 0), (10, 0), (10, 10)), area_px=100, diameter_px=10.0, diameter_um=None,
        touches_border=False, label=label, probabilities={"blast": p_blast}, p_blast=p_blast,
        is_blast=p_blast >= 0.5, threshold=0.5, model="tiny 0", slide_xy=None, track_id=None,
        current_label=current or label, decision=decision)


def test_the_cells_line_follows_the_review():
    cells = [cell(1, 0.9), cell(2, 0.7, current="lymphocyte"),  # moved off blast
             cell(3, 0.2, label="lymphocyte", current="blast"),  # moved to blast
             cell(4, 0.95, decision="dismiss")]
    assert [c.id for c in called_blasts(cells)] == [1, 3]
    assert cells_line(cells, "Pre-B") == (
        "Cells: 3 white cell(s), 2 called blast (highest P(blast) 0.90), 1 dismissed by the "
        "reviewer; subtype read by the field model: likely Pre-B")
    calm = [cell(5, 0.1, label="lymphocyte")]
    assert cells_line(calm, "Pre-B") == (
        "Cells: 1 white cell(s), 0 called blast (highest P(blast) 0.10)")
    assert cells_line([cell(6, 0.9, decision="dismiss")], None) == (
        "Cells: 0 white cell(s), 0 called blast, 1 dismissed by the reviewer")


def test_a_tally_without_a_counted_cell_has_no_blast_line():
    assert tally_lines(Tally(0, 0, {}), []) == [
        ("White cells examined", "0"), ("Count per type", "—")]


def test_fields_flagged_by_cells_are_ranked_by_their_strongest_cell(store):
    sid = store.create_session(session_info())
    saved = []
    for i, (p_all, p_blast) in enumerate([(0.99, 0.55), (0.51, 0.97), (0.8, None)]):
        flag = dataclasses.replace(flag_for(field_result(i, p_all)), p_blast=p_blast)
        saved.append(store.add_field(sid, "flag", *field_image(i), flag.result, flag))
    shown = shown_fields(store.fields(sid), unreviewed_cap=2)
    # P(blast) 0.97 and P(ALL) 0.8 rank above P(blast) 0.55, whatever that field's P(ALL)
    assert [f.id for f in shown] == [saved[1].id, saved[2].id]
