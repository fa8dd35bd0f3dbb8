"""One-shot exports of a session (PDF, CSV, JSON) on a worker thread.

The GUI thread starts an :class:`ExportJob` and goes on; the job runs ``write_pdf`` /
``write_csv`` / ``write_json`` on a plain Python thread and reports through Qt signals, which
Qt queues to the GUI thread: ``progressed(done, total)``, ``succeeded(path)`` with the path
actually written (a name collision gives ``name (2).pdf``), or ``errored(what, todo)`` with a
message for the window's banner. :class:`Exporter` asks where to save, runs one job at a
time with a progress dialog, and routes both outcomes to the banner. The GUI thread never
waits on an export, except at shutdown.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from allscope.core.classifier import Classifier
from allscope.core.store import SessionStore, StoreError
from allscope.core.store.files import WriteFailedError
from allscope.gui.banner import ErrorBanner

log = logging.getLogger(__name__)
SHUTDOWN_WAIT_S = 60.0  # a running export may finish its file when the window closes
KINDS = {"pdf": ("PDF report", ".pdf", "PDF report (*.pdf)"),
         "csv": ("CSV table", ".csv", "CSV table (*.csv)"),
         "json": ("JSON document", ".json", "JSON document (*.json)")}


def failure_message(kind: str, session_id: int, exc: BaseException) -> tuple[str, str]:
    """(what happened, what to do) for an export that failed with ``exc``."""
    label = KINDS[kind][0]
    if isinstance(exc, (WriteFailedError, FileExistsError, PermissionError)):
        return (
            f"The {label} of session {session_id} was not saved. {exc}",
            "Nothing was overwritten and the session is unchanged; export again to another folder.",
        )
    if isinstance(exc, OSError):
        return (
            f"The {label} of session {session_id} was not saved: {exc.strerror or exc}.",
            "Nothing was overwritten and the session is unchanged; free disk space or choose "
            "another "
            "folder, then export again.",
        )
    if isinstance(exc, StoreError):
        return (f"The {label} of session {session_id} could not be made: {exc}",
                "The session is unchanged; check the session store and export again.")
    return (
        f"The {label} of session {session_id} failed unexpectedly ({type(exc).__name__}: {exc}).",
        "The session is unchanged; export again, and report this if it repeats.",
    )


class ExportJob(QObject):
    """Writes one export of ``session_id`` to ``path`` off the GUI thread."""

    progressed = Signal(int, int)  # fields drawn, fields in all
    succeeded = Signal(object)  # Path actually written
    errored = Signal(str, str)  # what happened, what to do

    def __init__(self, kind: str, store: SessionStore, session_id: int, path: Path | str,
                 model_package=None, parent=None, logo: Path | None = None) -> None:
        super().__init__(parent)
        self.logo = logo
        if kind not in KINDS:
            raise ValueError(f"An export is one of {sorted(KINDS)}, not {kind!r}.")
        self.kind, self.store, self.session_id = kind, store, session_id
        self.path, self.model_package = Path(path), model_package
        self.written: Path | None = None
        self.error: tuple[str, str] | None = None
        self._thread = threading.Thread(
            target=self._run, name=f"allscope-export-{kind}", daemon=True
        )

    @property
    def label(self) -> str:
        return KINDS[self.kind][0]

    @property
    def worker_thread(self) -> threading.Thread:
        return self._thread

    def start(self) -> None:
        self._thread.start()

    def running(self) -> bool:
        return self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the export to finish (shutdown only); True when it has."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            written = self._write()
        except Exception as exc:  # every failure reaches the banner
            log.exception("%s export of session %s failed", self.kind, self.session_id)
            self.error = failure_message(self.kind, self.session_id, exc)
            self.errored.emit(*self.error)
            return
        self.written = written
        self.succeeded.emit(written)

    def _write(self) -> Path:
        if self.kind == "pdf":
            from allscope.report.pdf import write_pdf

            return write_pdf(self.store, self.session_id, self.path, self.model_package,
                             progress=self.progressed.emit, logo=self.logo)
        from allscope.report.exports import write_csv, write_json

        self.progressed.emit(0, 1)
        writer = write_csv if self.kind == "csv" else write_json
        written = writer(self.store, self.session_id, self.path)
        self.progressed.emit(1, 1)
        return written


def progress_dialog(job: ExportJob, parent) -> QProgressDialog:
    """A non-modal progress dialog that follows ``job`` and closes itself when it ends."""
    dialog = QProgressDialog(
        f"Writing the {job.label} of session {job.session_id}…", "", 0, 0, parent
    )
    dialog.setWindowTitle("Export")
    dialog.setWindowModality(Qt.WindowModality.NonModal)
    dialog.setCancelButton(None)  # an export is short and atomic: there is nothing to cancel
    dialog.setMinimumDuration(400)
    dialog.setAutoClose(False)
    dialog.setAutoReset(False)

    def show_progress(done: int, total: int) -> None:
        dialog.setMaximum(max(1, total))
        dialog.setValue(min(done, total))

    def finish(*_) -> None:
        dialog.hide()
        dialog.deleteLater()

    job.progressed.connect(show_progress)
    job.succeeded.connect(finish)
    job.errored.connect(finish)
    return dialog


class Exporter(QObject):
    """Exports sessions of ``store``: one job at a time, outcomes in the window's ``banner``.

    ``classifier`` is the loaded model: its card summary goes in a PDF of a session it made.
    """

    def __init__(
        self, parent: QWidget, store: SessionStore, banner: ErrorBanner,
        classifier: Classifier | None,
    ) -> None:
        super().__init__(parent)
        self.parent_widget, self.store = parent, store
        self.banner, self.classifier = banner, classifier
        self.job: ExportJob | None = None
        self.logo: Path | None = None  # the laboratory's logo for report headers (settings)

    def export(
        self, kind: str, session_id: int, path: Path | str | None = None
    ) -> ExportJob | None:
        """Start exporting; asks for the file when no ``path`` is given. None if nothing started."""
        if self.job is not None and self.job.running():
            self.banner.show_message(
                f"The {self.job.label} is still being written.", "Export again when it is done.",
                "warning", key="export",
            )
            return None
        path = path or self._ask_path(kind, session_id)
        if not path:
            return None
        job = ExportJob(
            kind, self.store, session_id, path, self._package_for(session_id), self, self.logo
        )
        job.succeeded.connect(
            lambda written: self.banner.show_message(
                f"The {job.label} of session {session_id} was saved as {written}.", "", "info",
                key="export",
            )
        )
        job.errored.connect(
            lambda what, todo: self.banner.show_message(what, todo, key="export")
        )
        progress_dialog(job, self.parent_widget)
        self.job = job
        job.start()
        return job

    def wait(self) -> None:
        """At shutdown: let a running export finish writing its file."""
        if self.job is not None and not self.job.wait(SHUTDOWN_WAIT_S):
            log.error("the %s export did not finish within %.0f s", self.job.kind, SHUTDOWN_WAIT_S)

    def _ask_path(self, kind: str, session_id: int) -> str:
        label, suffix, file_filter = KINDS[kind]
        name = "".join(
            c if c.isalnum() or c in "-_" else "-"
            for c in self.store.get_session(session_id).display_name
        )
        start = Path.home() / f"allscope-session-{session_id}-{name.strip('-')[:60]}{suffix}"
        path, _ = QFileDialog.getSaveFileName(
            self.parent_widget, f"Export {label}", str(start), file_filter
        )
        return path

    def _package_for(self, session_id: int):
        """The loaded model package if the session used it (its card summary goes in the PDF)."""
        classifier = self.classifier
        if (
            classifier is None
            or classifier.package.sha256 != self.store.get_session(session_id).info.model_sha256
        ):
            return None
        return classifier.package
