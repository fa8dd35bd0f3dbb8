"""The window's sessions: opening the store, the current session, result recording and exports.

While a session is current the gallery shows its saved fields and captures into it through a
``SessionFieldStore`` (durable before shown), reviews go to its audit trail under the
operator's name, and every per-frame result is recorded with ``SessionStore.record_result``
from the pipeline's result listener (a list append; the store batches the commits). Without
a session the gallery keeps fields in memory. A store that cannot be opened never stops the
app: a damaged database is moved aside and a new one started; a store from a newer version
leaves the app running without sessions. Every problem reaches the window's banner.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from allscope.app.field_store import FieldStore, GalleryRecord, MemoryFieldStore
from allscope.app.live_run import LiveController
from allscope.app.session_fields import SessionFieldStore, carry_over
from allscope.app.settings import Settings
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import package_label
from allscope.core.classifier import Classifier
from allscope.core.flags import FlagPolicy
from allscope.core.frames import FrameSource
from allscope.core.results import FieldResult
from allscope.core.store import SessionRecord, SessionStore, StoreCorruptError, StoreError
from allscope.gui.banner import ErrorBanner
from allscope.gui.export_worker import Exporter, ExportJob
from allscope.gui.status import StatusBar
from allscope.gui.window_parts import Panels

if TYPE_CHECKING:
    from allscope.gui.sessions_window import SessionsWindow
from allscope.gui.session_dialog import SETTINGS_KEYS, SessionDialog, session_info
from allscope.report.content import local_time

log = logging.getLogger(__name__)
TALLY_SAVE_S = 10.0  # the live slide tally is stored with the session this often
Problem = tuple[str, str, str]  # what happened, what to do, banner level
NO_SESSIONS = (
    "Sessions are off for this run: flagged fields are kept in memory only and are lost "
    "when allscope closes."
)
LOAD_WAIT_S = 30.0  # at shutdown: reading a resumed session's fields


def open_session_store(root: Path | str | None = None) -> tuple[SessionStore | None, list[Problem]]:
    """Open the store; a damaged database is moved aside and replaced. Never raises StoreError."""
    try:
        return SessionStore(root), []
    except StoreCorruptError as exc:
        return _replace_corrupt(root, exc)
    except StoreError as exc:
        return None, [(str(exc), NO_SESSIONS, "error")]


def _replace_corrupt(root, exc: StoreCorruptError) -> tuple[SessionStore | None, list[Problem]]:
    try:
        kept = SessionStore.quarantine(root, force=True)  # open_database found the damage
        store = SessionStore(root)
    except (OSError, StoreError) as again:
        return None, [(f"{exc} Moving it aside failed: {again}", NO_SESSIONS, "error")]
    what = f"The session database {exc.db_path} was damaged; it was moved aside as {kept.name}."
    todo = (
        "allscope started with a new, empty session list. The damaged file and every saved field "
        "image are kept in that folder for recovery."
    )
    return store, [(what, todo, "warning")]


class SessionHost(Protocol):
    """What the sessions need from the window (``MainWindow`` is one): where to show problems,
    the settings, the live state a new session records, and where the gallery's fields go."""

    banner: ErrorBanner
    status_bar: StatusBar
    panels: Panels
    settings: Settings
    classifier: Classifier | None
    cell_classifier: CellClassifier | None  # the cell package in force (also before a source)
    memory_store: FieldStore
    store: FieldStore

    @property
    def controller(self) -> LiveController | None: ...

    def policy(self) -> FlagPolicy: ...

    def set_session_info(self, info: dict[str, Any]) -> None: ...

    def set_field_store(self, store: FieldStore) -> None: ...

    def show_saved_records(self, records: list[GalleryRecord]) -> None: ...

    def setWindowTitle(self, title: str) -> None: ...


class SessionControl(QObject):
    """Owns the window's current session. ``changed`` fires when it starts, changes or ends.

    ``poll`` hands results of background work (loaded fields, recording failures) to the
    window; the window's housekeeping timer calls it.
    """

    changed = Signal()

    def __init__(
        self,
        parent: QWidget,
        host: SessionHost,
        store: SessionStore | None,
        owns_store: bool = False,
    ) -> None:
        super().__init__(parent)
        self.parent_widget, self.host = parent, host
        self.store, self.owns_store = store, owns_store
        self.current: SessionRecord | None = None
        self.dialog: SessionDialog | None = None
        self.sessions_window: SessionsWindow | None = None
        self.confirm_box: QMessageBox | None = None  # asked before resuming on another source
        self.exporter = (
            Exporter(parent, store, host.banner, host.classifier) if store is not None else None
        )
        self.record_failures = 0
        self._recording: tuple[SessionStore, int] | None = (
            None  # swapped whole: read on a worker thread
        )
        self._record_error = ""
        self._reported_failures = 0
        self._tally_saved_at = time.monotonic()
        self._loaders: list[threading.Thread] = []
        # (field store, records, error) handed over by the loader thread
        self._loaded: list[tuple[SessionFieldStore, list[GalleryRecord], Exception | None]] = []

    # start-up ---------------------------------------------------------------------------------
    def report(self, problems: list[Problem]) -> None:
        for what, todo, level in problems:
            self.host.banner.show_message(what, todo, level, key="store")

    def offer_resume(self) -> None:
        """A banner with a Resume button for the newest session that was never ended."""
        unfinished = [] if self.store is None else self.store.unfinished_sessions()
        if not unfinished:
            return
        newest = unfinished[0]
        more = (
            f" {len(unfinished) - 1} more are listed in Session ▸ Sessions…"
            if len(unfinished) > 1
            else ""
        )
        self.host.banner.show_message(
            f"Session “{newest.display_name}” (started "
            f"{local_time(newest.started_at, seconds=False)}, "
            f"{newest.field_count} saved fields) was not ended.",
            "Resume it to go on where it stopped, or start a new one (Session ▸ New session…)."
            + more,
            "info",
            key="resume",
            action=("Resume", lambda: self.open(newest.id)),
        )

    # sessions ---------------------------------------------------------------------------------
    def new_session(self) -> SessionDialog | None:
        """Open the start dialog (window-modal, not blocking); OK creates and opens the session."""
        if self._require_store() is None:
            return None
        earlier = (
            len(self.host.memory_store)
            if isinstance(self.host.memory_store, MemoryFieldStore)
            else 0
        )
        self.dialog = SessionDialog(
            self.host.settings.session_info, self.create, self.parent_widget, earlier
        )
        self.dialog.finished.connect(self._back_to_the_window)
        self.dialog.open()
        return self.dialog

    def _back_to_the_window(self) -> None:
        """The live window takes the keyboard back when the start dialog closes, so that Space
        captures and the review keys work at once (a closed dialog must not stay active)."""
        self.parent_widget.activateWindow()
        self.parent_widget.raise_()

    def create(self, entered: dict[str, str]) -> int:
        """Create a session from the dialog's values and the app's state; make it current."""
        store = self._require_store()
        if store is None:
            return -1
        controller = self.host.controller
        package = self.host.classifier.package if self.host.classifier is not None else None
        cells = controller.pipeline.cell_classifier if controller else self.host.cell_classifier
        info = session_info(
            entered, controller.source if controller else None, package, self.host.policy(),
            package_label(cells) if cells is not None else "",
        )
        scale = self.host.settings.microns_per_pixel.get(self.host.settings.objective)
        info = dataclasses.replace(info, um_per_px=scale)
        session_id = store.create_session(info)
        if controller is not None:  # a new session is a new slide: its cells count from zero
            controller.pipeline.cell_tracker.reset()
        if entered.get("keep_earlier") and isinstance(self.host.memory_store, MemoryFieldStore):
            kept = carry_over(self.host.memory_store, store, session_id, info.operator)
            self.host.status_bar.showMessage(
                f"{kept} earlier field(s) saved into the session.", 8000
            )
        self.host.set_session_info({SETTINGS_KEYS[k]: entered[k] for k in SETTINGS_KEYS})
        for key, edit in self.host.panels.policy.session_edits.items():  # the panel shows them too
            edit.setText(str(self.host.settings.session_info.get(key, "")))
        self.open(session_id)
        return session_id

    def source_opened(self, source: FrameSource) -> None:
        """A session started before any source was open records the first source that opens
        (and its camera settings); a recorded source is kept."""
        if self.store is None or self.current is None or self.current.info.source:
            return
        granted = getattr(source, "granted", None)
        camera = granted() if callable(granted) else {}
        if self.store.record_source(self.current.id, source.describe(), dict(camera or {})):
            self.current = self.store.get_session(self.current.id)

    def open(self, session_id: int, *, confirmed: bool = False) -> bool:
        """Make a session current: its fields fill the gallery, new fields and results go to it.

        Resuming a session recorded on another source asks first (``confirm_box``); the session
        opens only when the user agrees."""
        store = self._require_store()
        if store is None:
            return False
        try:
            record = store.get_session(session_id)
        except StoreError as exc:
            self.host.banner.show_message(
                str(exc), "Choose another session in Session ▸ Sessions….", key="store"
            )
            return False
        controller = self.host.controller
        running = controller.source.describe() if controller is not None else ""
        if not confirmed and record.info.source and running and record.info.source != running:
            self._ask_resume(record, running)
            return False
        reviewer = record.info.operator or self.host.settings.session_info.get("operator", "")
        fields = SessionFieldStore(store, session_id, reviewer=reviewer,
                                   um_per_px=record.info.um_per_px)
        self.current = record
        self._recording = (store, session_id)
        self.host.set_field_store(fields)
        self.host.banner.dismiss("resume")
        self._load(fields)
        self._announce()
        return True

    def end(self) -> None:
        """End the current session (its end time is stored); the gallery goes back to memory."""
        if self.current is None or self.store is None:  # a session is current only with a store
            return
        record, self.current, self._recording = self.current, None, None
        try:
            self._save_tally(record.id)
            self.store.end_session(record.id)
        except StoreError as exc:
            self.host.banner.show_message(
                f"The end of session {record.id} was not saved: {exc}",
                "Its fields are kept; end it again from the sessions list.", key="store",
            )
        self.host.set_field_store(self.host.memory_store)
        self._announce()
        self.host.status_bar.showMessage(
            f"Session “{record.display_name}” ended. Export it from Session ▸ Sessions….", 8000
        )

    def refresh_current(self) -> None:
        """Re-read the current session's record (after a rename)."""
        if self.current is not None and self.store is not None:
            self.current = self.store.get_session(self.current.id)
            self._announce()

    def policy_changed(self, policy: FlagPolicy) -> None:
        """A new flag policy is in force: record it in the current session with its time."""
        if self.current is None or self.store is None:
            return
        try:
            self.store.record_policy(self.current.id, policy.threshold, policy.to_dict())
        except StoreError as exc:
            self.host.banner.show_message(
                f"The change of flag policy was not recorded in the session: {exc}",
                "Check the session folder; the new policy is in force.",
                key="store",
            )

    def record_result(self, result: FieldResult) -> None:
        """Pipeline result listener (a worker thread): queue the result in the current session."""
        target = self._recording
        if target is None:
            return
        try:
            target[0].record_result(target[1], result)
        except Exception as exc:  # counted and shown by the GUI timer
            self.record_failures += 1
            self._record_error = str(exc)

    def show_sessions(self) -> SessionsWindow | None:
        """Show the sessions list (one window, re-listed each time it is shown)."""
        from allscope.gui.sessions_window import SessionsWindow

        if self._require_store() is None:
            return None
        if self.sessions_window is None:
            self.sessions_window = SessionsWindow(self, self.parent_widget)
            self.changed.connect(self.sessions_window.refresh)
        self.sessions_window.refresh()
        self.sessions_window.show()
        self.sessions_window.raise_()
        return self.sessions_window

    # exports ----------------------------------------------------------------------------------
    def export(
        self, kind: str, session_id: int | None = None, path: Path | str | None = None
    ) -> ExportJob | None:
        """Export a session (the current one by default) off the GUI thread; asks where if no
        path."""
        session_id = (
            session_id if session_id is not None else (self.current.id if self.current else None)
        )
        if self.exporter is None:
            self._require_store()  # says that sessions are off
            return None
        if session_id is None:
            self.host.banner.show_message(
                "There is no session to export.",
                "Start one (Session ▸ New session…) or open one in Session ▸ Sessions….", "warning",
                key="export",
            )
            return None
        return self.exporter.export(kind, session_id, path)

    @property
    def export_job(self) -> ExportJob | None:
        return self.exporter.job if self.exporter is not None else None

    # background and shutdown ------------------------------------------------------------------
    def _load(self, fields: SessionFieldStore) -> None:
        """Read the session's saved fields on a thread (decoding images takes time)."""

        def load() -> None:
            try:
                self._loaded.append((fields, fields.existing_records(), None))
            except Exception as exc:  # reported by the GUI timer
                self._loaded.append((fields, [], exc))

        loader = threading.Thread(target=load, name="allscope-session-load", daemon=True)
        self._loaders = [t for t in self._loaders if t.is_alive()] + [loader]
        loader.start()

    def _save_tally(self, session_id: int) -> None:
        """Store the live slide tally's distinct cells with the session (see store.cells)."""
        controller = self.host.controller
        pipeline = controller.pipeline if controller is not None else None
        if self.store is not None and pipeline is not None and pipeline.cell_classifier:
            self.store.record_tally(session_id, pipeline.cell_tracker)
        self._tally_saved_at = time.monotonic()

    def poll(self) -> None:
        target = self._recording
        if target is not None and time.monotonic() - self._tally_saved_at > TALLY_SAVE_S:
            try:
                self._save_tally(target[1])
            except StoreError as exc:
                self._record_error = str(exc)
        while self._loaded:
            fields, records, error = self._loaded.pop(0)
            if error is not None:
                self.host.banner.show_message(
                    f"The saved fields of the session could not all be read: {error}",
                    "They stay on disk; check the session folder.", key="store",
                )
            if fields is self.host.store:
                self.host.show_saved_records(records)
        if self.record_failures != self._reported_failures:
            self._reported_failures = self.record_failures
            self.host.banner.show_message(
                f"{self.record_failures} per-frame results could not be recorded: "
                f"{self._record_error}",
                "Saved fields are not affected; free disk space or check the session folder.",
                key="record",
            )

    def _ask_resume(self, record: SessionRecord, running: str) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Resume on another source?",
            f"Session “{record.display_name}” was recorded on {record.info.source}.\n"
            f"The source now is {running}.\n\nResume it on this source? Fields saved from now on "
            "come from the new source.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.parent_widget,
        )
        box.setDefaultButton(QMessageBox.StandardButton.No)
        yes = box.button(QMessageBox.StandardButton.Yes)
        yes.clicked.connect(lambda: self.open(record.id, confirmed=True))
        self.confirm_box = box
        box.open()

    def _announce(self) -> None:
        self.host.panels.policy.lock_identity(self.current is not None)
        name = f"session “{self.current.display_name}”" if self.current else "no session"
        self.host.setWindowTitle(f"allscope: {name} (screening aid, not a diagnosis)")
        self.changed.emit()

    def _require_store(self) -> SessionStore | None:
        """The store; None (with a banner saying sessions are off) when there is none."""
        if self.store is None:
            self.host.banner.show_message(
                "The session store is not available.", NO_SESSIONS, key="store"
            )
        return self.store

    def threads(self) -> list[threading.Thread]:
        return self._loaders + (
            [self.export_job.worker_thread] if self.export_job is not None else []
        )

    def close(self) -> None:
        """Let a running export finish, then flush (and close, if opened here) the store."""
        if self.exporter is not None:
            self.exporter.wait()
        for loader in self._loaders:
            loader.join(LOAD_WAIT_S)
        self._recording = None
        if self.store is not None:
            try:
                self.store.close() if self.owns_store else self.store.flush()
            except StoreError as exc:
                log.warning("session store not closed cleanly: %s", exc)
