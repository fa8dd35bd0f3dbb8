"""CSV and JSON exports of a session: every per-field result, written atomically, never
clobbering."""

from __future__ import annotations

import csv
import errno
import json
from dataclasses import replace

import pytest
from report_helpers import LONG_COMMENT, PERSIAN
from store_helpers import field_result, session_info

from allscope.core.store.files import WriteFailedError
from allscope.report.exports import write_csv, write_json


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_one_row_per_recorded_result_with_class_probabilities(store, session_id, tmp_path):
    rows = read_csv(write_csv(store, session_id, tmp_path / "r.csv"))
    assert len(rows) == 12
    assert float(rows[0]["p_Benign"]) == pytest.approx(0.8)
    assert rows[0]["label"] == "Benign"
    assert [r["frame_id"] for r in rows] == [str(i) for i in range(12)]


def test_csv_keeps_non_latin_names(store, tmp_path):
    sid = store.create_session(session_info())
    store.record_results(sid, [replace(field_result(1), name=PERSIAN)])
    assert read_csv(write_csv(store, sid, tmp_path / "r.csv"))[0]["name"] == PERSIAN


def test_csv_defuses_text_that_a_spreadsheet_would_run_as_a_formula(store, tmp_path):
    sid = store.create_session(session_info())
    store.record_results(sid, [replace(field_result(1), name="=HYPERLINK(1)")])
    assert read_csv(write_csv(store, sid, tmp_path / "r.csv"))[0]["name"] == "'=HYPERLINK(1)"


def test_json_holds_session_summary_results_and_full_review_trail(store, session_id, tmp_path):
    data = json.loads(
        write_json(store, session_id, tmp_path / "s.json").read_text(encoding="utf-8")
    )
    assert data["session"]["patient_id"].startswith(PERSIAN)
    assert data["summary"]["analysed"] == 12
    assert len(data["results"]) == 12
    assert [f["kind"] for f in data["fields"]] == ["flag", "flag", "manual"]
    assert data["fields"][1]["reviews"][0]["comment"] == LONG_COMMENT
    assert "not a diagnosis" in data["disclaimer"]


def test_export_never_overwrites_an_existing_file(store, session_id, tmp_path):
    (tmp_path / "r.csv").write_text("mine")
    written = write_csv(store, session_id, tmp_path / "r.csv")
    assert written.name == "r (2).csv"
    assert (tmp_path / "r.csv").read_text() == "mine"


def test_disk_full_keeps_the_previous_export_and_leaves_no_partial_file(
    store, session_id, tmp_path
):
    first = write_json(store, session_id, tmp_path / "s.json")
    before = first.read_bytes()

    def disk_full(handle, data):
        handle.write(data[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteFailedError, match="disk is full"):
        write_json(store, session_id, first, overwrite=True, writer=disk_full)
    assert first.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["s.json"]


def test_unwritable_destination_is_a_clear_error(store, session_id, tmp_path):
    blocker = tmp_path / "a file"
    blocker.write_text("x")
    with pytest.raises(WriteFailedError, match="Could not write .*r.csv"):
        write_csv(store, session_id, blocker / "r.csv")
