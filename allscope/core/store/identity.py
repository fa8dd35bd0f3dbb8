"""Session IDs that never repeat in a store, and deletion that touches only a session's own files.

SQLite numbers rows from the database file; after a quarantine the new file would start again
at 1, and session 1's files would land in the old session 1's folder (deleting the new one
would then delete the old evidence). So the next ID is one above the highest of: the
database's IDs, every ``session-NNNNNN`` folder on disk, and the ``session-counter`` file
beside the database, which survives a quarantine and is written before the ID is used.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from allscope.core.store.files import atomic_write

COUNTER_FILE = "session-counter"
_FOLDER = re.compile(r"^session-(\d+)$")


def next_session_id(root: Path, conn: sqlite3.Connection) -> int:
    """The next never-used session ID; recorded in the counter file before it is returned."""
    in_db = conn.execute("SELECT coalesce(max(id), 0) FROM sessions").fetchone()[0]
    deleted = conn.execute("SELECT coalesce(max(session_id), 0) FROM deleted_sessions").fetchone()[
        0
    ]
    on_disk = max(
        (int(m.group(1)) for p in root.iterdir() if (m := _FOLDER.match(p.name))), default=0
    )
    session_id = max(int(in_db), int(deleted), on_disk, _counter(root)) + 1
    atomic_write(root / COUNTER_FILE, f"{session_id}\n".encode(), overwrite=True)
    return session_id


def _counter(root: Path) -> int:
    try:
        return int((root / COUNTER_FILE).read_text(encoding="utf-8").strip() or 0)
    except (OSError, ValueError):
        return 0  # absent or damaged: the folders and the database still bound the ID


def remove_session_files(folder: Path, own: list[Path]) -> list[Path]:
    """Delete the files the database lists for the session, then its folder if nothing else is
    in it; return what was left (files that are not this session's are never deleted)."""
    for path in own:
        if path.parent == folder:
            path.unlink(missing_ok=True)
    for stale in folder.glob(".*.tmp"):  # this session's interrupted writes
        stale.unlink(missing_ok=True)
    left = sorted(folder.iterdir()) if folder.is_dir() else []
    if folder.is_dir() and not left:
        folder.rmdir()
    return left
