"""Opening the session database (``allscope.core.store.database``) when something is in the
way: a folder under its name, another program's SQLite file, a lock held elsewhere; its health
check; quarantine beside an earlier one and with its WAL files; owner-only permissions."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time

import pytest

from allscope.core.store import StoreCorruptError, StoreError
from allscope.core.store.database import health, open_database, owner_only, quarantine


def test_a_folder_where_the_database_belongs_is_reported(tmp_path):
    (tmp_path / "sessions.db").mkdir()
    with pytest.raises(StoreError, match="Could not open the session database .*sessions.db"):
        open_database(tmp_path / "sessions.db")
    assert (tmp_path / "sessions.db").is_dir()


def test_another_programs_sqlite_file_is_called_damaged_and_left_as_it_was(tmp_path):
    db = tmp_path / "sessions.db"
    other = sqlite3.connect(db)
    other.execute("CREATE TABLE sessions (user TEXT, token TEXT)")  # a browser's, say
    other.commit()
    other.close()
    before = db.read_bytes()
    with pytest.raises(StoreCorruptError, match="damaged \\(it holds tables but no allscope"):
        open_database(db)
    assert db.read_bytes() == before  # not switched to WAL mode, nothing migrated
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sessions.db"]


@pytest.mark.slow
def test_a_database_locked_by_another_program_is_in_use_not_damaged(tmp_path):
    """The other program holds an exclusive lock for longer than the 10 s busy wait."""
    db = tmp_path / "sessions.db"
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("CREATE TABLE other (x)")
    other.execute("BEGIN EXCLUSIVE")
    try:
        started = threading.Event()
        errors: list[BaseException] = []

        def opening() -> None:
            started.set()
            try:
                open_database(db)
            except BaseException as exc:
                errors.append(exc)

        worker = threading.Thread(target=opening)
        worker.start()
        assert started.wait(30)
        worker.join(60)
        assert not worker.is_alive()
    finally:
        other.execute("ROLLBACK")
        other.close()
    [error] = errors
    assert type(error) is StoreError  # neither damaged nor read-only
    assert "is in use by another program and stayed locked" in str(error)
    assert "Nothing was changed" in str(error)


def test_health_of_an_absent_sound_or_foreign_file(tmp_path):
    db = tmp_path / "sessions.db"
    assert health(db) is None  # nothing there: nothing damaged
    open_database(db).close()
    assert health(db) is None
    db.write_bytes(b"not a database at all" * 200)
    assert "file is not a database" in health(db)


def test_quarantine_beside_an_earlier_one_of_the_same_second_gets_a_new_name(tmp_path):
    db = tmp_path / "sessions.db"
    db.write_bytes(b"damaged" * 100)
    now = time.time()
    earlier = [
        tmp_path / f"sessions.db.corrupt-{time.strftime('%Y%m%d-%H%M%S', time.localtime(now + s))}"
        for s in range(0, 30)
    ]
    for path in earlier:
        path.write_bytes(b"an earlier damaged store")
    moved = quarantine(db)
    assert moved.name.endswith("-2") and moved.with_name(moved.name[:-2]) in earlier
    assert moved.read_bytes() == b"damaged" * 100 and not db.exists()
    assert all(path.read_bytes() == b"an earlier damaged store" for path in earlier)


def test_quarantine_moves_the_write_ahead_log_with_the_database(tmp_path):
    db = tmp_path / "sessions.db"
    conn = open_database(db)
    conn.execute("CREATE TABLE scratch (x)")
    conn.execute("INSERT INTO scratch VALUES (1)")
    assert (tmp_path / "sessions.db-wal").exists()
    try:
        moved = quarantine(db, force=True)
    finally:
        conn.close()
    assert not db.exists() and not (tmp_path / "sessions.db-wal").exists()
    assert moved.with_name(moved.name + "-wal").exists()
    assert moved.with_name(moved.name + "-shm").exists()


def test_owner_only_removes_group_and_other_access_and_ignores_a_vanished_file(tmp_path):
    path = tmp_path / "sessions.db"
    path.write_bytes(b"")
    os.chmod(path, 0o664)
    owner_only(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    os.chmod(path, 0o400)
    owner_only(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o400  # no permission is ever added
    owner_only(tmp_path / "gone.db")  # removed meanwhile: nothing to do, no error
