"""SessionStore on a real SQLite file: sessions, saved fields, results and the review trail."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import cv2
import numpy as np
import pytest
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.core.store import SessionStore, StoreError, default_root


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "store") as s:
        yield s


def test_root_defaults_to_allscope_data_dir_env(monkeypatch, tmp_path):
    monkeypatch.setenv("ALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    assert default_root() == tmp_path / "data" / "sessions"


def test_database_is_in_wal_mode(store):
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_session_metadata_round_trips(store):
    info = session_info(patient_id="بیمار ۴۲", notes="Zoë's slide", camera_settings={"gain": 3})
    sid = store.create_session(info, started_at=1000.0)
    record = store.get_session(sid)
    assert record.info == info
    assert record.started_at == 1000.0
    assert record.ended_at is None


def test_unfinished_sessions_lists_only_sessions_not_ended(store):
    open_id = store.create_session(session_info(slide_id="open"))
    done_id = store.create_session(session_info(slide_id="done"))
    store.end_session(done_id, ended_at=2000.0)
    assert [s.id for s in store.unfinished_sessions()] == [open_id]
    assert store.get_session(done_id).ended_at == 2000.0


def test_list_sessions_searches_patient_and_slide_ids(store):
    a = store.create_session(session_info(patient_id="P-100", slide_id="X1"))
    b = store.create_session(session_info(patient_id="P-200", slide_id="X2"))
    assert [s.id for s in store.list_sessions("P-1")] == [a]
    assert [s.id for s in store.list_sessions("x2")] == [b]
    assert {s.id for s in store.list_sessions(None)} == {a, b}


def test_search_treats_percent_as_a_literal_character(store):
    store.create_session(session_info(patient_id="P-100"))
    assert store.list_sessions("%") == []


def test_rename_session_changes_display_name(store):
    sid = store.create_session(session_info(patient_id="P1", slide_id="S1"))
    assert store.get_session(sid).display_name == "P1 / S1"
    store.rename_session(sid, "Morning smear")
    assert store.get_session(sid).display_name == "Morning smear"


def test_a_session_started_before_a_source_records_the_first_one_and_keeps_it(store, tmp_path):
    from allscope.core.store import SessionStore

    sid = store.create_session(session_info(patient_id="P1", source=""))
    assert store.record_source(sid, "camera 0 (1920×1080)", {"exposure": -6})
    assert not store.record_source(sid, "demo slide")  # the first source stays
    info = store.get_session(sid).info
    assert (info.source, info.camera_settings) == ("camera 0 (1920×1080)", {"exposure": -6})
    other = store.create_session(session_info(patient_id="P2", source="video a.mp4"))
    assert not store.record_source(other, "camera 0")
    assert store.get_session(other).info.source == "video a.mp4"
    store.close()
    reopened = SessionStore(store.root)  # on disk, not only in this connection
    assert reopened.get_session(sid).info.source == "camera 0 (1920×1080)"
    reopened.close()


def test_unknown_session_raises_a_clear_error(store):
    with pytest.raises(StoreError, match="no session 99"):
        store.get_session(99)


def test_add_field_writes_lossless_image_and_mask_with_their_hashes(store):
    sid = store.create_session(session_info())
    image, mask = field_image(3)
    record = store.add_field(sid, "flag", image, mask, field_result(7), flag_for(field_result(7)))
    assert np.array_equal(cv2.imread(str(record.image_path), cv2.IMREAD_UNCHANGED), image)
    assert np.array_equal(cv2.imread(str(record.mask_path), cv2.IMREAD_UNCHANGED), mask)
    assert hashlib.sha256(record.image_path.read_bytes()).hexdigest() == record.image_sha256
    assert hashlib.sha256(record.mask_path.read_bytes()).hexdigest() == record.mask_sha256
    assert (record.width, record.height) == (128, 96)


def test_saved_field_reads_back_with_result_and_flag(store):
    sid = store.create_session(session_info())
    result = field_result(7, p_all=0.83)
    store.add_field(sid, "flag", *field_image(), result, flag_for(result))
    [saved] = store.fields(sid)
    assert saved.result == result
    assert saved.flag.end_frame == 11
    assert saved.flag.result == result


def test_add_field_rejects_a_mask_of_another_size(store):
    sid = store.create_session(session_info())
    image, _ = field_image()
    with pytest.raises(ValueError, match="mask's shape"):
        store.add_field(sid, "manual", image, np.zeros((10, 10), np.uint8), field_result())


def test_add_field_rejects_unknown_kind(store):
    sid = store.create_session(session_info())
    with pytest.raises(ValueError, match="'flag' or 'manual'"):
        store.add_field(sid, "auto", *field_image(), field_result())


def test_summary_counts_results_and_fields(store):
    sid = store.create_session(session_info(threshold=0.7), started_at=10.0)
    store.record_results(
        sid,
        [
            field_result(1, 0.9, "Pre-B"), field_result(2, 0.2, "Benign"),
            field_result(3, 0.95, "Pre-B"), field_result(4, assessable=False),
        ],
    )
    store.add_field(sid, "flag", *field_image(), field_result(1))
    store.add_field(sid, "manual", *field_image(), field_result(2))
    store.end_session(sid, ended_at=70.0)
    summary = store.summary(sid)
    assert (summary.analysed, summary.assessable, summary.classified) == (4, 3, 3)
    assert summary.class_counts == {"Benign": 1, "Pre-B": 2}
    assert (summary.flagged_fields, summary.captured_fields) == (1, 1)
    assert summary.duration_s == 60.0
    assert summary.threshold == 0.7


def test_record_result_batches_are_visible_after_flush(store):
    sid = store.create_session(session_info())
    for i in range(10):
        store.record_result(sid, field_result(i))
    rows = store.results(sid)
    assert [r["frame_id"] for r in rows] == list(range(10))
    assert rows[0]["probabilities"] == pytest.approx(list(field_result(0).probabilities))


def test_latest_review_is_the_fields_current_state(store):
    sid = store.create_session(session_info())
    field = store.add_field(sid, "flag", *field_image(), field_result())
    store.review(field.id, "accept", "blasts present", "Dr A")
    store.review(field.id, "dismiss", "stain artefact", "Dr B")
    assert store.get_field(field.id).review.decision == "dismiss"
    assert [(r.decision, r.reviewer) for r in store.reviews(field.id)] == [
        ("accept", "Dr A"),
        ("dismiss", "Dr B"),
    ]


def test_review_rejects_unknown_decision(store):
    sid = store.create_session(session_info())
    field = store.add_field(sid, "flag", *field_image(), field_result())
    with pytest.raises(ValueError, match="'accept', 'dismiss' or None"):
        store.review(field.id, "maybe", "", "Dr A")


@pytest.mark.parametrize("sql", ["UPDATE reviews SET comment = 'edited'", "DELETE FROM reviews"])
def test_reviews_cannot_be_changed_or_removed(store, sql):
    sid = store.create_session(session_info())
    field = store.add_field(sid, "flag", *field_image(), field_result())
    store.review(field.id, "accept", "original", "Dr A")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store._db.execute(sql)
    assert store.reviews(field.id)[0].comment == "original"


def test_very_long_comment_is_stored_in_full(store):
    sid = store.create_session(session_info())
    field = store.add_field(sid, "flag", *field_image(), field_result())
    comment = "ابتدا " + "x" * 100_000
    store.review(field.id, None, comment, "Dr A")
    assert store.get_field(field.id).review.comment == comment


def test_delete_session_removes_rows_reviews_and_files(store):
    keep = store.create_session(session_info(slide_id="keep"))
    gone = store.create_session(session_info(slide_id="gone"))
    kept_field = store.add_field(keep, "flag", *field_image(), field_result())
    field = store.add_field(gone, "flag", *field_image(), field_result())
    store.review(field.id, "accept", "", "Dr A")
    store.delete_session(gone)
    assert [s.id for s in store.list_sessions()] == [keep]
    assert not store.session_dir(gone).exists()
    assert store._db.execute("SELECT count(*) FROM reviews").fetchone()[0] == 0
    assert kept_field.image_path.is_file()


def test_store_reopens_with_everything_saved(tmp_path):
    with SessionStore(tmp_path) as store:
        sid = store.create_session(session_info())
        field = store.add_field(sid, "flag", *field_image(), field_result())
        store.record_result(sid, field_result(5))  # queued, flushed by close()
    with SessionStore(tmp_path) as store:
        assert store.get_field(field.id).image_sha256 == field.image_sha256
        assert len(store.results(sid)) == 1


def test_concurrent_writers_share_one_store(tmp_path):
    """The pipeline, the GUI and an export worker may share a store: four threads save fields,
    record results and review at once; every write lands and the database stays sound."""
    import threading

    errors, per_thread = [], 6
    with SessionStore(tmp_path) as store:
        sid = store.create_session(session_info())
        start = threading.Barrier(4)

        def writer(n):
            try:
                start.wait(10)
                for i in range(per_thread):
                    frame_id = 100 * n + i
                    field = store.add_field(sid, "flag", *field_image(frame_id % 7),
                                            field_result(frame_id))
                    store.record_result(sid, field_result(frame_id))
                    store.review(field.id, "accept", f"thread {n}", f"Dr {n}")
            except Exception as exc:  # collected: a thread cannot fail the test itself
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == [] and not any(t.is_alive() for t in threads)
        fields = store.fields(sid)
        assert len(fields) == 4 * per_thread == len({f.id for f in fields})
        assert sorted(f.result.frame_id for f in fields) == sorted(
            100 * n + i for n in range(4) for i in range(per_thread))
        assert all(f.review is not None and f.review.decision == "accept" for f in fields)
        assert len(store.results(sid)) == 4 * per_thread
        assert store.integrity_check() == ["ok"]
        assert all(f.image_path.is_file() and f.mask_path.is_file() for f in fields)


def test_root_without_the_env_is_the_platforms_user_data_folder(monkeypatch):
    import platformdirs

    monkeypatch.delenv("ALLSCOPE_DATA_DIR", raising=False)
    expected = platformdirs.user_data_dir("allscope", appauthor=False)
    assert default_root() == Path(expected) / "sessions"


def test_a_store_folder_that_cannot_be_created_is_reported(tmp_path):
    (tmp_path / "taken").write_bytes(b"a file, not a folder")
    with pytest.raises(StoreError, match="Could not create the session folder .*taken/store"):
        SessionStore(tmp_path / "taken" / "store")


def test_results_are_committed_in_batches_without_an_explicit_flush(tmp_path):
    """Another reader of the same store sees a full batch of 64 results at once."""
    with SessionStore(tmp_path) as writer, SessionStore(tmp_path) as reader:
        sid = writer.create_session(session_info())
        for i in range(63):
            writer.record_result(sid, field_result(i))
        assert reader.results(sid) == []  # still queued in the writer
        writer.record_result(sid, field_result(63))
        assert [r["frame_id"] for r in reader.results(sid)] == list(range(64))


def test_a_closed_store_says_so_and_closing_again_is_harmless(tmp_path):
    store = SessionStore(tmp_path)
    sid = store.create_session(session_info())
    store.close()
    store.close()
    with pytest.raises(StoreError, match="The session store is closed."):
        store.get_session(sid)


def test_unknown_sessions_fields_and_cells_are_named_in_the_error(store):
    with pytest.raises(StoreError, match="There is no session 41 in"):
        store.end_session(41)
    with pytest.raises(StoreError, match="There is no session 42 in"):
        store.rename_session(42, "renamed")
    with pytest.raises(StoreError, match="There is no saved field 43."):
        store.get_field(43)
    with pytest.raises(StoreError, match="There is no saved cell 44."):
        store.review_cell(44, "accept")


def test_cells_are_asked_for_by_session_or_by_field_not_both(store):
    sid = store.create_session(session_info())
    field = store.add_field(sid, "manual", *field_image(1), field_result(1))
    for session_id, field_id in ((None, None), (sid, field.id)):
        with pytest.raises(ValueError, match="Name either a session or a field."):
            store.cells(session_id=session_id, field_id=field_id)
    assert store.cells(session_id=sid) == store.cells(field_id=field.id) == []  # no cell model


def test_deleting_a_session_also_removes_its_interrupted_writes(store):
    sid = store.create_session(session_info())
    store.add_field(sid, "manual", *field_image(1), field_result(1))
    folder = store.session_dir(sid)
    (folder / ".field-000001.png.x1y2.tmp").write_bytes(b"half an image")  # a killed writer's
    store.delete_session(sid)
    assert not folder.exists()


def test_only_files_inside_the_session_folder_are_removed_with_it(tmp_path):
    from allscope.core.store.identity import remove_session_files

    folder = tmp_path / "session-000001"
    folder.mkdir()
    own, elsewhere = folder / "field.png", tmp_path / "field.png"
    own.write_bytes(b"x")
    elsewhere.write_bytes(b"kept")  # a damaged row could name it: never this session's
    assert remove_session_files(folder, [own, elsewhere]) == []
    assert not folder.exists() and elsewhere.read_bytes() == b"kept"
