"""SessionStore: sessions, saved fields, per-frame results and reviews, crash-safe.

Layout under ``root``: ``sessions.db`` (SQLite, WAL) and one ``session-NNNNNN/`` folder per
session holding each saved field as a lossless PNG plus its mask PNG (and, for a flag from a
model with a CAM head, its class activation map as an 8-bit PNG).

Durability contract: :meth:`SessionStore.add_field` returns only after both image files are
on disk (fsynced) and the row is committed, so a field shown after it returned survives a
kill or power cut. Per-frame results (:meth:`record_result`) are batched; up to one batch
(about a second) may be lost on a crash, which costs no saved field.

Thread-safe: one lock serialises database access, so a pipeline thread, the GUI thread and an
export worker may share one store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

from allscope.core.cells.tally import DEFAULT_TARGET, Tally
from allscope.core.results import FieldResult, Flag, MaskResult
from allscope.core.store import cells as cell_rows
from allscope.core.store import records as rec
from allscope.core.store import saved, signoff
from allscope.core.store.database import DB_NAME, open_database, owner_only, quarantine
from allscope.core.store.errors import StoreError
from allscope.core.store.files import FileWriter, fsync_dir, remove_stale_temp_files
from allscope.core.store.identity import next_session_id, remove_session_files

_RESULT_BATCH = 64
_RESULT_MAX_AGE_S = 1.0
_STALE_TEMP_S = 600.0  # temporaries older than this were left by a killed process


def default_root() -> Path:
    """``$ALLSCOPE_DATA_DIR/sessions``, else the platform's user data dir + ``/sessions``."""
    env = os.environ.get("ALLSCOPE_DATA_DIR")
    if env:
        return Path(env).expanduser() / "sessions"
    import platformdirs

    return Path(platformdirs.user_data_dir("allscope", appauthor=False)) / "sessions"


class SessionStore:
    """The on-disk record of every session. See the module docstring for the guarantees."""

    def __init__(
        self, root: Path | str | None = None, *, file_writer: FileWriter | None = None
    ) -> None:
        self.root = Path(root) if root is not None else default_root()
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Could not create the session folder {self.root}: {exc.strerror}."
            ) from exc
        _private_dir(self.root)
        self.db_path = self.root / DB_NAME
        self._conn: sqlite3.Connection | None = open_database(self.db_path)
        self._writer = file_writer
        self._lock = threading.RLock()
        self._pending: list[tuple[Any, ...]] = []
        self._last_flush = time.monotonic()
        for folder in self.root.glob("session-*"):
            remove_stale_temp_files(folder, _STALE_TEMP_S)

    @staticmethod
    def quarantine(root: Path | str | None = None, force: bool = False) -> Path:
        """Move a damaged ``sessions.db`` aside (kept for recovery); return where it went.
        A database that passes its integrity check is refused unless ``force``."""
        root = Path(root) if root is not None else default_root()
        return quarantine(root / DB_NAME, force=force)

    def close(self) -> None:
        with self._lock:
            if self._conn is None:
                return
            self.flush()
            self._conn.close()
            self._conn = None

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- sessions -----------------------------------------------------------------------

    def create_session(self, info: rec.SessionInfo, started_at: float | None = None) -> int:
        """A new session whose ID (and folder) was never used in this store, even before a
        quarantine: IDs continue from the highest ever issued (``session-counter``)."""
        row = rec.info_to_row(info)
        row["started_at"] = time.time() if started_at is None else started_at
        with self._lock, self._transaction():  # the write lock also orders other processes
            row["id"] = session_id = next_session_id(self.root, self._db)
            columns = ", ".join(row)
            marks = ", ".join(f":{k}" for k in row)
            self._db.execute(f"INSERT INTO sessions ({columns}) VALUES ({marks})", row)
            signoff.insert_policy(
                self._db, session_id, row["started_at"], info.threshold, info.flag_policy
            )
        folder = self.session_dir(session_id)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        _private_dir(folder)
        fsync_dir(self.root)
        return session_id

    def end_session(self, session_id: int, ended_at: float | None = None) -> None:
        with self._lock:
            self.flush()
            self._execute_one(
                "UPDATE sessions SET ended_at = ? WHERE id = ?",
                (time.time() if ended_at is None else ended_at, session_id), session_id,
            )

    def rename_session(self, session_id: int, name: str) -> None:
        with self._lock:
            self._execute_one(
                "UPDATE sessions SET name = ? WHERE id = ?", (name.strip() or None, session_id),
                session_id,
            )

    def record_source(
        self, session_id: int, source: str, camera_settings: dict[str, Any] | None = None
    ) -> bool:
        """Record the source of a session that was started before any source was open (its
        source is empty); a source already recorded is never overwritten. True if recorded."""
        settings = json.dumps(camera_settings or {}, ensure_ascii=False, default=str)
        with self._lock:
            cursor = self._db.execute(
                "UPDATE sessions SET source = ?, camera_settings = ? "
                "WHERE id = ? AND (source IS NULL OR source = '')",
                (source, settings, session_id),
            )
        return cursor.rowcount == 1

    def get_session(self, session_id: int) -> rec.SessionRecord:
        rows = self._sessions("WHERE s.id = ?", (session_id,))
        if not rows:
            raise StoreError(f"There is no session {session_id} in {self.root}.")
        return rows[0]

    def list_sessions(self, search: str | None = None) -> list[rec.SessionRecord]:
        """All sessions, newest first; ``search`` matches part of the patient ID, slide ID or
        name."""
        if not search or not search.strip():
            return self._sessions("", ())
        like = (
            "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        where = (
            "WHERE s.patient_id LIKE ? ESCAPE '\\' OR s.slide_id LIKE ? ESCAPE '\\' OR s.name "
            "LIKE ? ESCAPE '\\'"
        )
        return self._sessions(where, (like, like, like))

    def unfinished_sessions(self) -> list[rec.SessionRecord]:
        """Sessions never ended (the app was closed or killed): offer to resume them."""
        return self._sessions("WHERE s.ended_at IS NULL", ())

    def delete_session(self, session_id: int) -> None:
        """Remove a session's rows (reviews included) and its image folder. Not undoable."""
        self.get_session(session_id)
        own = [
            p
            for f in self.fields(session_id)
            for p in (f.image_path, f.mask_path, f.preview_path, f.heat_map_path)
            if p is not None
        ]
        with self._lock:
            self.flush()
            with self._transaction():
                self._db.execute(
                    "INSERT OR REPLACE INTO deleted_sessions VALUES (?, ?)",
                    (session_id, time.time()),
                )
                for table in ("cell_reviews", "cells", "tally_cells", "reviews", "signatures",
                              "policy_changes", "fields", "results"):
                    self._db.execute(f"DELETE FROM {table} WHERE session_id = ?", (session_id,))
                self._db.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        remove_session_files(self.session_dir(session_id), own)

    def record_policy(
        self,
        session_id: int,
        threshold: float | None,
        flag_policy: dict[str, Any],
        at: float | None = None,
    ) -> rec.PolicyChange:
        """A flag policy came into force during the session (the report shows it per field)."""
        self.get_session(session_id)
        with self._lock:
            return signoff.insert_policy(
                self._db, session_id, time.time() if at is None else at, threshold, flag_policy
            )

    def policies(self, session_id: int) -> list[rec.PolicyChange]:
        """Every flag policy in force during the session, oldest first."""
        session = self.get_session(session_id)
        with self._lock:
            return signoff.select_policies(self._db, session)

    def sign(self, session_id: int, role: str, name: str) -> rec.Signature:
        """Sign the session's report as ``role`` ("reviewed" or "verified"); append-only.

        Refused (StoreError) while the session runs or while a flagged field is unreviewed.
        """
        session = self.get_session(session_id)
        with self._lock:
            return signoff.insert_signature(self._db, session, role, name, time.time())

    def signatures(self, session_id: int) -> list[rec.Signature]:
        with self._lock:
            return signoff.select_signatures(self._db, session_id)

    def unreviewed_flags(self, session_id: int) -> int:
        with self._lock:
            return signoff.unreviewed_flags(self._db, session_id)

    def session_dir(self, session_id: int) -> Path:
        return self.root / f"session-{session_id:06d}"

    def summary(self, session_id: int) -> rec.SessionSummary:
        session = self.get_session(session_id)
        with self._lock:
            self.flush()
            return saved.summarise(self._db, session)

    # --- fields and results ---------------------------------------------------------------

    def add_field(
        self, session_id: int, kind: str, frame_bgr: np.ndarray, mask: np.ndarray | MaskResult,
        result: FieldResult, flag: Flag | None = None, *, um_per_px: float | None = None,
    ) -> rec.SavedField:
        """Save a field losslessly with its mask, result and the flag's heat map (if it has one),
        and its judged cells (``allscope.core.store.cells``; diameters in µm at ``um_per_px``,
        else at the session's scale when it has one); return once it is durable."""
        if kind not in ("flag", "manual"):
            raise ValueError(f"Field kind must be 'flag' or 'manual', not {kind!r}.")
        session = self.get_session(session_id)
        um_per_px = um_per_px if um_per_px is not None else session.info.um_per_px
        mask = mask.mask if isinstance(mask, MaskResult) else mask
        heat_map = None if flag is None else flag.heat_map
        files = saved.write_images(
            self.session_dir(session_id), frame_bgr, mask, self._writer, heat_map
        )
        try:
            with self._lock:
                self.flush()
                with self._transaction():
                    record = saved.insert(
                        self._db, session_id, kind, files, result, flag, self.root
                    )
                    cell_rows.insert_cells(self._db, record.id, session_id, result, um_per_px)
                return record
        except sqlite3.Error as exc:
            files.remove()
            raise StoreError(
                f"The field could not be recorded in {self.db_path} ({exc}); its image files "
                "were removed and earlier fields are unchanged. Check the disk and capture again."
            ) from exc
        except BaseException:
            files.remove()
            raise

    def fields(self, session_id: int) -> list[rec.SavedField]:
        """Saved fields of a session in capture order, each with its latest review."""
        with self._lock:
            return saved.select(self._db, self.root, "f.session_id = ?", (session_id,))

    def get_field(self, field_id: int) -> rec.SavedField:
        with self._lock:
            found = saved.select(self._db, self.root, "f.id = ?", (field_id,))
        if not found:
            raise StoreError(f"There is no saved field {field_id}.")
        return found[0]

    def heat_map(self, field_id: int) -> np.ndarray | None:
        """The field's class activation map, float32 0..1 over the field; None when it has none."""
        path = self.get_field(field_id).heat_map_path
        return None if path is None else saved.read_heat_map(path)

    def record_result(self, session_id: int, result: FieldResult) -> None:
        """Queue one per-frame result for the session's statistics and export (batched)."""
        with self._lock:
            self._pending.append(saved.result_row(session_id, result))
            due = time.monotonic() - self._last_flush > _RESULT_MAX_AGE_S
            if len(self._pending) >= _RESULT_BATCH or due:
                self.flush()

    def record_results(self, session_id: int, results: Iterable[FieldResult]) -> None:
        with self._lock:
            self._pending.extend(saved.result_row(session_id, r) for r in results)
            self.flush()

    def results(self, session_id: int) -> list[dict[str, Any]]:
        """Every recorded per-frame result of a session, in recording order, as plain dicts."""
        with self._lock:
            self.flush()
            return saved.select_results(self._db, session_id)

    def flush(self) -> None:
        """Commit queued per-frame results now."""
        with self._lock:
            self._last_flush = time.monotonic()
            if not self._pending:
                return
            rows, self._pending = self._pending, []
            with self._transaction():
                self._db.executemany(saved.INSERT_RESULT, rows)

    # --- reviews ----------------------------------------------------------------------------

    def review(
        self, field_id: int, decision: str | None, comment: str = "", reviewer: str = ""
    ) -> rec.ReviewRecord:
        """Append a review (the field's new current state); earlier reviews are kept as history."""
        if decision not in (*rec.DECISIONS, None):
            raise ValueError(f"A review decision is 'accept', 'dismiss' or None, not {decision!r}.")
        field = self.get_field(field_id)
        now = time.time()
        with self._lock:
            cur = self._db.execute(
                "INSERT INTO reviews (field_id, session_id, decision, comment, reviewer, "
                "created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (field_id, field.session_id, decision, comment or "", reviewer or "", now),
            )
        return rec.ReviewRecord(
            saved.inserted_id(cur), field_id, decision, comment or "", reviewer or "", now
        )

    def reviews(self, field_id: int) -> list[rec.ReviewRecord]:
        """The audit trail of a field, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM reviews WHERE field_id = ? ORDER BY id", (field_id,)
            ).fetchall()
        return [saved.review_from_row(r) for r in rows]

    # --- cells (see allscope.core.store.cells for the API the cell review calls) ------------

    def cells(
        self, session_id: int | None = None, field_id: int | None = None
    ) -> list[cell_rows.CellRecord]:
        """Saved cells of a session or of one field, each with its current review state."""
        if (session_id is None) == (field_id is None):
            raise ValueError("Name either a session or a field.")
        where, key = ("c.field_id = ?", field_id) if field_id is not None else (
            "c.session_id = ?", session_id)
        with self._lock:
            return cell_rows.select_cells(self._db, where, (key,))

    def review_cell(
        self, cell_id: int, action: str, label: str | None = None, comment: str = "",
        reviewer: str = "",
    ) -> cell_rows.CellReviewRecord:
        """Append a reclassification, accept or dismiss of one saved cell to its audit trail."""
        with self._lock:
            found = cell_rows.select_cells(self._db, "c.id = ?", (cell_id,))
            if not found:
                raise StoreError(f"There is no saved cell {cell_id}.")
            return cell_rows.insert_review(self._db, found[0], action, label, comment, reviewer)

    def cell_reviews(self, cell_id: int) -> list[cell_rows.CellReviewRecord]:
        with self._lock:
            return cell_rows.select_reviews(self._db, cell_id)

    def record_tally(self, session_id: int, counted: cell_rows.CountedCells) -> int:
        """Store the distinct cells a tally counted for the session (replacing older ones): the
        live slide tally's (``CellTracker``) or a batch run's (``BatchTally``)."""
        self.get_session(session_id)
        with self._lock, self._transaction():
            return cell_rows.save_tally(self._db, session_id, counted)

    def cell_tally(self, session_id: int, target: int = DEFAULT_TARGET) -> Tally:
        """The session's tally with every reclassification applied (dismissed cells left out)."""
        self.get_session(session_id)
        with self._lock:
            return cell_rows.session_tally(self._db, session_id, target)

    def record_activation(
        self, kind: str, package_path: str, package_sha256: str, previous_sha256: str = "",
        figures: dict[str, Any] | None = None, reviewer: str = "",
    ) -> cell_rows.ActivationRecord:
        """Append one model package put in force (kind e.g. "cells") to the audit trail."""
        with self._lock:
            return cell_rows.insert_activation(
                self._db, kind, package_path, package_sha256, previous_sha256, figures or {},
                reviewer,
            )

    def activations(self) -> list[cell_rows.ActivationRecord]:
        with self._lock:
            return cell_rows.select_activations(self._db)

    def integrity_check(self) -> list[str]:
        """SQLite's full integrity check; ``["ok"]`` when sound."""
        with self._lock:
            return [row[0] for row in self._db.execute("PRAGMA integrity_check").fetchall()]

    # --- internals --------------------------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("The session store is closed.")
        return self._conn

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def _execute_one(self, sql: str, params: tuple[Any, ...], session_id: int) -> None:
        if self._db.execute(sql, params).rowcount != 1:
            raise StoreError(f"There is no session {session_id} in {self.root}.")

    def _sessions(self, where: str, params: tuple[Any, ...]) -> list[rec.SessionRecord]:
        sql = (
            "SELECT s.*, (SELECT count(*) FROM fields f WHERE f.session_id = s.id) AS field_count "
            f"FROM sessions s {where} ORDER BY s.started_at DESC, s.id DESC"
        )
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        return [
            rec.SessionRecord(
                r["id"], r["name"], rec.info_from_row(dict(r)), r["started_at"], r["ended_at"],
                r["field_count"],
            )
            for r in rows
        ]


def _private_dir(folder: Path) -> None:
    """Session folders are readable by their owner only (0700 when created by the store)."""
    owner_only(folder)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self._conn.execute("BEGIN IMMEDIATE")
        return self._conn

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._conn.execute("COMMIT" if exc_type is None else "ROLLBACK")
