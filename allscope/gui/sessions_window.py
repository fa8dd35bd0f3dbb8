"""The sessions list: search by patient or slide ID, open, rename, delete, export.

A non-modal window beside the live view. Opening a session makes it the window's current
session (its fields fill the gallery for review; an unfinished one is resumed). Deleting asks
for confirmation and is refused for the current session. Exports run on the export worker.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from allscope.core.store import SessionRecord, StoreError
from allscope.report.content import local_time

COLUMNS = ("No.", "Name", "Patient / sample", "Slide", "Operator", "Started", "Status", "Fields")
IdRole = Qt.ItemDataRole.UserRole + 1


def status_text(record: SessionRecord, current_id: int | None) -> str:
    if record.id == current_id:
        return "current"
    return "ended" if record.finished else "not ended"


class SessionsWindow(QDialog):
    """Lists the store's sessions, newest first, and acts on the selected one."""

    def __init__(self, control, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Sessions")
        self.setModal(False)
        self.control = control
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search patient / sample ID, slide ID or name")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda *_: self.refresh())
        self.table = QTableWidget(0, len(COLUMNS), self)
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemActivated.connect(lambda *_: self.open_selected())
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.buttons = {
            "open": QPushButton("&Open", self), "rename": QPushButton("&Rename…", self),
            "delete": QPushButton("&Delete…", self), "pdf": QPushButton("Export &PDF…", self),
            "csv": QPushButton("Export &CSV…", self), "json": QPushButton("Export &JSON…", self),
        }
        self.buttons["open"].clicked.connect(self.open_selected)
        self.buttons["rename"].clicked.connect(lambda: self.rename_selected())
        self.buttons["delete"].clicked.connect(self.delete_selected)
        for kind in ("pdf", "csv", "json"):
            self.buttons[kind].clicked.connect(lambda _=False, k=kind: self.export_selected(k))
        row = QHBoxLayout()
        for button in self.buttons.values():
            row.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(row)
        self.resize(860, 420)
        self.refresh()

    # listing ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read the sessions matching the search text, keeping the selection if still listed."""
        keep = self.selected_id()
        try:
            records = self.control.store.list_sessions(self.search.text())
        except StoreError as exc:
            self.message.setText(f"The sessions could not be listed: {exc}")
            records = []
        current = self.control.current.id if self.control.current else None
        self.table.setRowCount(len(records))
        for row, record in enumerate(records):
            info = record.info
            cells = (
                str(record.id), record.display_name, info.patient_id, info.slide_id, info.operator,
                local_time(record.started_at, seconds=False), status_text(record, current),
                str(record.field_count),
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(IdRole, record.id)
                self.table.setItem(row, column, item)
        self.table.resizeColumnsToContents()
        if keep is not None:
            self.select_id(keep)
        self._update_buttons()

    def listed_ids(self) -> list[int]:
        return [self._row_id(row) for row in range(self.table.rowCount())]

    def _row_id(self, row: int) -> int:
        item = self.table.item(row, 0)
        if item is None:
            raise LookupError(f"row {row} of the sessions table has no id cell")
        return item.data(IdRole)

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return None if not rows else self._row_id(rows[0].row())

    def select_id(self, session_id: int) -> bool:
        for row, listed in enumerate(self.listed_ids()):
            if listed == session_id:
                self.table.selectRow(row)
                return True
        return False

    # actions ----------------------------------------------------------------------------------
    def open_selected(self) -> None:
        session_id = self.selected_id()
        if session_id is not None and self.control.open(session_id):
            self.message.setText(
                f"Session {session_id} is open: its fields are in the gallery for review."
            )
            self.refresh()

    def rename_selected(self, name: str | None = None) -> None:
        """Rename the selected session (asks for the name when none is given); empty clears it."""
        session_id = self.selected_id()
        if session_id is None:
            return
        if name is None:
            old = self.control.store.get_session(session_id).name or ""
            name, ok = QInputDialog.getText(
                self, "Rename session", "Name (empty: patient / slide ID):", text=old
            )
            if not ok:
                return
        self._act(lambda: self.control.store.rename_session(session_id, name[:200]), "")
        if self.control.current is not None and self.control.current.id == session_id:
            self.control.refresh_current()

    def delete_selected(self) -> None:
        """Delete the selected session after the user confirms; never the current one."""
        session_id = self.selected_id()
        if session_id is None:
            return
        if self.control.current is not None and self.control.current.id == session_id:
            self.message.setText(
                "This is the current session: end it (Session ▸ End session) before deleting it."
            )
            return
        record = self.control.store.get_session(session_id)
        answer = QMessageBox.question(
            self,
            "Delete session",
            f"Delete session “{record.display_name}” with its {record.field_count} saved fields, "
            "their images "
            "and reviews? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._act(
                lambda: self.control.store.delete_session(session_id),
                f"Session {session_id} was deleted.",
            )

    def export_selected(self, kind: str) -> None:
        session_id = self.selected_id()
        if session_id is not None:
            self.control.export(kind, session_id)

    def _act(self, action, done: str) -> None:
        """Run a store action; show ``done`` or the store's message, then re-list."""
        try:
            action()
        except StoreError as exc:
            done = str(exc)
        self.message.setText(done)
        self.refresh()

    def _update_buttons(self) -> None:
        chosen = self.selected_id() is not None
        for button in self.buttons.values():
            button.setEnabled(chosen)
