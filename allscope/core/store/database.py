"""Opening the session database: integrity check, version check, WAL, migrations, quarantine.

A damaged file is detected here, at open, and reported as :class:`StoreCorruptError` so the
app can tell the user, move the file aside with :func:`quarantine`, and start with a new one.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from allscope.core.store.errors import StoreCorruptError, StoreError, StoreReadOnlyError
from allscope.core.store.schema import SCHEMA_VERSION, migrate, schema_version

DB_NAME = "sessions.db"
_SIDE_FILES = ("-wal", "-shm")


def open_database(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at ``path``.

    Raises :class:`StoreCorruptError` for a damaged file and :class:`StoreError` for one
    written by a newer allscope; neither case modifies the file.
    """
    _check_writable(path)
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10.0)
    except sqlite3.Error as exc:
        raise StoreError(f"Could not open the session database {path}: {exc}.") from exc
    conn.text_factory = _text  # damaged text is shown as U+FFFD, never an exception
    try:
        _check(conn, path)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")  # a commit survives a power cut, not only a crash
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
        _check_columns(conn, path)
        private(path)
    except sqlite3.OperationalError as exc:
        conn.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise StoreError(
                f"The session database {path} is in use by another program and stayed locked "
                f"({exc}); close the other allscope and try again. Nothing was changed."
            ) from exc
        if _is_access_problem(str(exc)):
            raise _read_only(path, str(exc)) from exc
        raise _corrupt(path, str(exc)) from exc
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise _corrupt(path, str(exc)) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def private(path: Path) -> None:
    """Patient data is readable by its owner only: group and other access is removed from the
    database and its side files (0600 for a new store); no permission is ever added."""
    for file in (path, *(path.with_name(path.name + s) for s in _SIDE_FILES)):
        owner_only(file)


def owner_only(path: Path) -> None:
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            os.chmod(path, mode & ~0o077)
    except OSError:
        pass  # gone meanwhile, or a file system without Unix permissions


def _is_access_problem(message: str) -> bool:
    message = message.lower()
    return any(s in message for s in ("readonly", "read-only", "unable to open"))


def _check_writable(path: Path) -> None:
    """A database that exists but cannot be written is reported as such, before SQLite runs."""
    folder = path.parent
    problem = None
    if path.exists() and not os.access(path, os.R_OK | os.W_OK):
        problem = "the file is not readable and writable by this user"
    elif not os.access(folder, os.W_OK | os.X_OK):
        problem = "its folder is not writable by this user"
    else:
        try:
            probe = folder / f".write-probe-{os.getpid()}.tmp"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            problem = f"its folder cannot be written ({exc.strerror})"
    if problem:
        raise _read_only(path, problem)


def _read_only(path: Path, detail: str) -> StoreReadOnlyError:
    return StoreReadOnlyError(
        f"The session database {path} cannot be written ({detail}). It is not damaged: check the "
        "folder's permissions, free disk space, or whether the disk is mounted read-only. Do not "
        "quarantine it; nothing was changed."
    )


def _check(conn: sqlite3.Connection, path: Path) -> None:
    version = schema_version(conn)  # raises DatabaseError on a file that is not SQLite
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"The session store {path} was created by a newer allscope (schema version "
            f"{version}; this allscope reads up to {SCHEMA_VERSION}); update allscope to open it. "
            "Nothing was changed in the store."
        )
    if version == 0:
        # allscope sets the version with its first tables (one transaction): tables without
        # a version are another program's, refused before WAL mode rewrites the file's header
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise _corrupt(path, "it holds tables but no allscope schema version; it was "
                           "written by another program")
        return
    rows = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    if rows != ["ok"]:
        raise _corrupt(path, "; ".join(str(r) for r in rows[:3]))


def _columns(conn: sqlite3.Connection) -> dict[str, set[str]]:
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}


def _check_columns(conn: sqlite3.Connection, path: Path) -> None:
    """Every table and column that the file's schema version promises is there.

    A file can carry the current ``user_version`` and still lack a column (a development build
    wrote it); without this check the first insert would fail with a raw SQLite error after the
    work it was to record had been done."""
    reference = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(reference)
        expected = _columns(reference)
    finally:
        reference.close()
    present = _columns(conn)
    missing = sorted(
        f"{table}.{column}"
        for table, columns in expected.items()
        for column in columns - present.get(table, set())
    )
    if missing:
        raise _corrupt(path, (
            f"it lacks {', '.join(missing)}, which its schema version {schema_version(conn)} "
            "requires; a development build of allscope wrote it"
        ))


def _corrupt(path: Path, detail: str) -> StoreCorruptError:
    return StoreCorruptError(
        f"The session database {path} is damaged ({detail}). It can be moved aside so that "
        "allscope starts with a new, empty session list; the saved field images stay in their "
        "folders and the damaged file is kept for recovery.",
        path,
    )


def health(db_path: Path) -> str | None:
    """Why the database at ``db_path`` is damaged, or None when it is sound (or absent)."""
    if not db_path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10.0)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        schema_version(conn)
        rows = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
        return None if rows == ["ok"] else "; ".join(str(r) for r in rows[:3])
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()


def quarantine(db_path: Path, force: bool = False) -> Path:
    """Rename a damaged database (and its WAL/SHM files) aside; return the new database path.

    A sound database is refused (StoreError) unless ``force``: moving it would hide every
    saved session from the app for nothing.
    """
    if not db_path.exists():
        raise StoreError(f"There is no session database at {db_path}; nothing was moved.")
    if not force:
        problem = health(db_path)
        if problem is None:
            raise StoreError(
                f"The session database {db_path} passed its integrity check; it was not moved. "
                "Use --force to move it aside anyway."
            )
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
