"""Bad cases of the session store: each gives a clear message and loses nothing saved."""

from __future__ import annotations

import errno
import os
import sqlite3
import time

import pytest
from store_helpers import field_image, field_result, session_info

from allscope.core.store import SessionStore, StoreCorruptError, StoreError
from allscope.core.store.files import WriteFailedError
from allscope.core.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate


def failing_after(limit: int):
    """A file writer that writes ``limit`` bytes, then fails as a full disk does."""

    def write(handle, data):
        handle.write(data[:limit])
        raise OSError(errno.ENOSPC, "No space left on device")

    return write


def test_store_from_a_newer_allscope_is_refused_untouched(tmp_path):
    db = tmp_path / "sessions.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = db.read_bytes()
    with pytest.raises(StoreError, match="created by a newer allscope.*update allscope"):
        SessionStore(tmp_path)
    assert db.read_bytes() == before


def test_corrupt_database_is_detected_at_open(tmp_path):
    (tmp_path / "sessions.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreCorruptError, match="damaged") as caught:
        SessionStore(tmp_path)
    assert caught.value.db_path == tmp_path / "sessions.db"


def test_damaged_pages_are_detected_at_open(tmp_path):
    with SessionStore(tmp_path) as store:
        sid = store.create_session(session_info())
        store.record_results(sid, [field_result(i) for i in range(300)])
        store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db = tmp_path / "sessions.db"
    data = bytearray(db.read_bytes())
    page = 4096
    data[2 * page : 4 * page] = b"\xff" * (2 * page)  # overwrite two pages after the header
    db.write_bytes(bytes(data))
    with pytest.raises(StoreCorruptError):
        SessionStore(tmp_path)


def test_quarantine_moves_the_damaged_file_aside_and_the_store_starts_empty(tmp_path):
    damaged = b"garbage" * 1000
    (tmp_path / "sessions.db").write_bytes(damaged)
    with pytest.raises(StoreCorruptError):
        SessionStore(tmp_path)
    moved = SessionStore.quarantine(tmp_path)
    assert moved.read_bytes() == damaged
    with SessionStore(tmp_path) as store:
        assert store.list_sessions() == []


def test_migrations_run_in_order_up_to_the_newest(tmp_path):
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    extra = (*MIGRATIONS, (SCHEMA_VERSION + 1, "ALTER TABLE sessions ADD COLUMN room TEXT;"))
    assert migrate(conn, extra) == SCHEMA_VERSION + 1
    columns = [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]
    assert "room" in columns
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1


def test_failed_migration_keeps_the_previous_version(tmp_path):
    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    migrate(conn)
    broken = (
        *MIGRATIONS,
        (SCHEMA_VERSION + 1, "ALTER TABLE sessions ADD COLUMN a TEXT; THIS IS NOT SQL;"),
    )
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "a" not in [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]


def test_disk_full_while_saving_a_field_keeps_earlier_fields_and_leaves_no_partial_file(tmp_path):
    with SessionStore(tmp_path) as store:
        sid = store.create_session(session_info())
        first = store.add_field(sid, "flag", *field_image(1), field_result(1))
    files_before = sorted(p.name for p in (tmp_path / "session-000001").iterdir())
    with SessionStore(tmp_path, file_writer=failing_after(500)) as full:
        with pytest.raises(WriteFailedError, match="disk is full"):
            full.add_field(sid, "flag", *field_image(2), field_result(2))
        assert [f.id for f in full.fields(sid)] == [first.id]
    assert sorted(p.name for p in (tmp_path / "session-000001").iterdir()) == files_before


def test_disk_full_on_the_mask_removes_the_already_written_image(tmp_path):
    calls = []

    def image_ok_mask_fails(handle, data):
        calls.append(len(data))
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        handle.write(data)

    with SessionStore(tmp_path, file_writer=image_ok_mask_fails) as store:
        sid = store.create_session(session_info())
        with pytest.raises(WriteFailedError):
            store.add_field(sid, "flag", *field_image(), field_result())
        assert store.fields(sid) == []
    assert list((tmp_path / "session-000001").iterdir()) == []


def test_unwritable_store_folder_is_reported(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="Could not create the session folder"):
        SessionStore(blocker / "sessions")


def test_reopening_removes_old_temporaries_left_by_a_killed_writer(tmp_path):
    with SessionStore(tmp_path) as store:
        sid = store.create_session(session_info())
    folder = tmp_path / "session-000001"
    old = folder / ".field-x.png.abc.tmp"
    fresh = folder / ".field-y.png.def.tmp"
    old.write_bytes(b"partial")
    fresh.write_bytes(b"partial")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    SessionStore(tmp_path).close()
    assert not old.exists()
    assert fresh.exists()  # may belong to a write in progress
    assert sid == 1


def test_a_failed_insert_after_the_files_were_written_removes_them(tmp_path):
    with SessionStore(tmp_path) as store:
        sid = store.create_session(session_info())
        first = store.add_field(sid, "flag", *field_image(1), field_result(1))
        files_before = sorted(p.name for p in store.session_dir(sid).iterdir())
        # the database refuses the row only after write_images put every file on disk
        other = sqlite3.connect(tmp_path / "sessions.db")
        other.execute("CREATE TRIGGER refuse BEFORE INSERT ON fields "
                      "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END")
        other.commit()
        with pytest.raises(StoreError, match=r"could not be recorded .*refused by a test trigger"):
            store.add_field(sid, "flag", *field_image(2), field_result(2))
        assert sorted(p.name for p in store.session_dir(sid).iterdir()) == files_before
        other.execute("DROP TRIGGER refuse")
        other.commit()
        other.close()
        second = store.add_field(sid, "manual", *field_image(3), field_result(3))
        assert [f.id for f in store.fields(sid)] == [first.id, second.id]


def test_store_missing_a_column_of_its_version_is_called_damaged(tmp_path):
    SessionStore(tmp_path).close()
    with sqlite3.connect(tmp_path / "sessions.db") as conn:
        conn.execute("ALTER TABLE sessions DROP COLUMN um_per_px")
    with pytest.raises(StoreCorruptError, match=r"lacks sessions\.um_per_px.*schema version"):
        SessionStore(tmp_path)
