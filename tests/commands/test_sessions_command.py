"""``allscope sessions ...`` and the batch report of ``allscope analyze --pdf``, on a real store."""

from __future__ import annotations

import json
import sqlite3

import numpy as np
import pytest
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.commands.sessions import sessions_main, write_batch_report
from allscope.core.batch import BatchReport
from allscope.core.frames import Frame
from allscope.core.results import MaskResult
from allscope.core.store import SessionStore


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture
def saved_session(data_dir) -> int:
    with SessionStore() as store:
        sid = store.create_session(session_info(patient_id="P-77", slide_id="S-1"))
        store.record_results(sid, [field_result(i) for i in range(4)])
        store.add_field(sid, "flag", *field_image(), field_result(1))
        store.create_session(session_info(patient_id="Q-12", slide_id="S-2"))
    return sid


def test_list_shows_sessions_and_search_filters_them(saved_session, capsys):
    assert sessions_main(["list"]) == 0
    out = capsys.readouterr().out
    assert "P-77 / S-1" in out and "Q-12 / S-2" in out
    assert sessions_main(["list", "--search", "p-7"]) == 0
    out = capsys.readouterr().out
    assert "P-77 / S-1" in out and "Q-12" not in out


def test_export_writes_pdf_csv_and_json(saved_session, tmp_path, qapp, capsys):
    code = sessions_main(["export", str(saved_session), "--pdf", str(tmp_path / "r.pdf"),
                          "--csv", str(tmp_path / "r.csv"), "--json", str(tmp_path / "r.json")])
    assert code == 0
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF-")
    assert (tmp_path / "r.pdf.manifest.json").is_file()
    assert len((tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()) == 5
    assert (
        json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["session"]["patient_id"]
        == "P-77"
    )


def test_export_without_an_output_says_what_to_give(saved_session, capsys):
    assert sessions_main(["export", str(saved_session)]) == 2
    assert "give --pdf FILE" in capsys.readouterr().err


def test_export_of_an_unknown_session_is_a_clear_error(saved_session, tmp_path, capsys):
    assert sessions_main(["export", "999", "--csv", str(tmp_path / "x.csv")]) == 2
    assert "no session 999" in capsys.readouterr().err


def test_corrupt_store_is_reported_and_can_be_quarantined(data_dir, capsys):
    (data_dir / "sessions").mkdir(parents=True)
    (data_dir / "sessions" / "sessions.db").write_bytes(b"not sqlite" * 500)
    assert sessions_main(["list"]) == 3
    assert "allscope sessions quarantine" in capsys.readouterr().err
    assert sessions_main(["quarantine"]) == 0
    assert sessions_main(["list"]) == 0
    assert "No sessions." in capsys.readouterr().out


def test_store_from_a_newer_version_is_reported(data_dir, capsys):
    (data_dir / "sessions").mkdir(parents=True)
    conn = sqlite3.connect(data_dir / "sessions" / "sessions.db")
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    assert sessions_main(["list"]) == 2
    assert "update allscope" in capsys.readouterr().err


def test_batch_report_saves_a_session_and_writes_the_pdf(tmp_path, qapp):
    image, mask = field_image(2)
    result = field_result(3, 0.95)
    frame = Frame(id=3, timestamp=0.0, image=image, source="slide.png", name="slide")
    mask_result = MaskResult(
        mask=mask, masked=image, candidates=(), centers=np.zeros(2), inertia=0.0
    )
    report = BatchReport(results=[field_result(i) for i in range(5)], flags=[flag_for(result)],
                         flagged_frames={0: (frame, mask_result)}, threshold=0.6)
    with SessionStore(tmp_path / "store") as store:
        path = write_batch_report(
            report, None, tmp_path / "batch.pdf",
            {"patient_id": "B-1", "slide_id": "S", "operator": "op", "lab_name": "Lab"},
            store=store,
        )
        [session] = store.list_sessions()
        assert path == tmp_path / "batch.pdf"
        assert session.info.patient_id == "B-1" and session.info.threshold == 0.6
        assert session.finished
        assert store.summary(session.id).analysed == 5
        assert store.fields(session.id)[0].result == result


def test_batch_report_to_a_missing_folder_exits_with_a_message(tmp_path, qapp, capsys):
    with SessionStore(tmp_path / "store") as store, pytest.raises(SystemExit) as stop:
        write_batch_report(BatchReport(), None, tmp_path / "nowhere" / "b.pdf", {}, store=store)
    assert stop.value.code == 2
    assert "does not exist" in capsys.readouterr().err
