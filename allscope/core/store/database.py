"""Opening the session database: integrity check, version check, WAL, migrations, quarantine.

A damaged file is detected here, at open, and reported as :class:`StoreCorruptError` so the
app can tell the user, move the file aside with :func:`quarantine`, and start with a new one.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from allscope.core.store.errors import StoreCorruptError, StoreError
from allscope.core.store.schema import SCHEMA_VERSION, migrate, schema_version

DB_NAME = "sessions.db"
_SIDE_FILES = ("-wal", "-shm")


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at ``path``.

    Raises :class:`StoreCorruptError` for a damaged file and :class:`StoreError` for one
    written by a newer allscope; neither case modifies the file.
    """
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    except sqlite3.Error as exc:
        raise StoreError(f"Could not open the session database {path}: {exc}.") from exc
    try:
        _check(conn, path)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a crash
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _corrupt(path, str(exc)) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _check(conn: sqlite3.Connection, path: Path) -> None:
    version = schema_version(conn)  # raises DatabaseError on a file that is not SQLite
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The session store {path} was created by a newer allscope (schema version "
            f"{version}; this allscope reads up to {SCHEMA_VERSION}); update allscope to open it. "
            "Nothing was changed in the store."
        )
    if version == 0:
        return
    rows = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        raise _corrupt(path, "; ".join(str(r) for r in rows[:3]))


def _corrupt(path: Path, detail: str) -> StoreCorruptError:
    return StoreCorruptError(
        f"The session database {path} is damaged ({detail}). It can be moved aside so that "
        "allscope starts with a new, empty session list; the saved field images stay in their "
        "folders and the damaged file is kept for recovery.",
        path,
    )


def quarantine(db_path: Path) -> Path:
    """Rename a damaged database (and its WAL/SHM files) aside; return the new database path."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = db_path.with_name(f"{db_path.name}.corrupt-{stamp}")
    n = 2
    while target.exists():
        target = db_path.with_name(f"{db_path.name}.corrupt-{stamp}-{n}")
        n += 1
    for suffix in _SIDE_FILES:
        side = db_path.with_name(db_path.name + suffix)
        if side.exists():
            side.rename(target.with_name(target.name + suffix))
    if db_path.exists():
        db_path.rename(target)
    return target
