"""Reviewing stored fields: the gallery beside a large view of the selected field.

Keyboard: arrows move through the gallery, A accepts, D dismisses, C edits the comment
(Enter saves it, Escape leaves it), O toggles the WBC outlines, H the evidence map (the class
activation map of a flag, where the model saw the evidence for its answer, when the model has
one). Every decision goes to the store first; the gallery shows it only after the store
accepted it.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QEvent, QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from allscope.app.cell_overlay import overlays
from allscope.app.cell_words import cells_text, subtype_text, verdict_text
from allscope.app.field_store import FieldStore, GalleryRecord
from allscope.core.cam import overlay
from allscope.gui.field_viewer import FieldViewer
from allscope.gui.gallery import GalleryModel, GalleryView
from allscope.gui.gallery_controls import with_controls

DECISION_TEXT = {None: "Not reviewed", "accept": "Accepted", "dismiss": "Dismissed"}


def outlined(image: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    """A copy of the field with the mask's outlines drawn in cyan."""
    out = image.copy()
    if mask is not None:
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, (255, 255, 0), max(2, image.shape[1] // 600))
    return out


class ReviewPane(QWidget):
    """A large view of one record with its probabilities, decision and comment."""

    decide = Signal(str)  # "accept" or "dismiss"
    comment_entered = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.record: GalleryRecord | None = None
        self._image: np.ndarray | None = None
        self._mask: np.ndarray | None = None
        self._heat: np.ndarray | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewer = FieldViewer(
            self
        )  # full resolution: wheel zooms, drag pans, double-click fits
        self.viewer.setToolTip("Wheel or +/− zooms, drag pans, double-click or 0 fits")
        self.overlay_box = QCheckBox("Outlines (O)", self)
        self.overlay_box.setChecked(True)
        self.overlay_box.toggled.connect(self._render)
        self.cam_box = QCheckBox("Evidence map (H)", self)
        self.cam_box.setToolTip(
            "Where the model saw the evidence for its answer (class activation map); "
            "only flags of a model with a CAM head have one."
        )
        self.cam_box.toggled.connect(self._render)
        self.info_label = QLabel("", self)
        self.info_label.setWordWrap(True)
        self.decision_label = QLabel("", self)
        self.accept_button = QPushButton("Accept (A)", self)
        self.dismiss_button = QPushButton("Dismiss (D)", self)
        self.accept_button.clicked.connect(lambda: self.decide.emit("accept"))
        self.dismiss_button.clicked.connect(lambda: self.decide.emit("dismiss"))
        self.comment_edit = QLineEdit(self)
        self.comment_edit.setPlaceholderText("Comment (C to edit, Enter to save)")
        self.comment_edit.returnPressed.connect(self._save_comment)
        toggles, buttons = QHBoxLayout(), QHBoxLayout()  # the view toggles share the decision's row
        for widget in (self.decision_label, self.overlay_box, self.cam_box):
            toggles.addWidget(widget)
        toggles.insertStretch(1, 1)
        for button in (self.accept_button, self.dismiss_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.viewer, 1)
        layout.addWidget(self.info_label)
        layout.addLayout(toggles)
        layout.addLayout(buttons)
        layout.addWidget(self.comment_edit)
        self.set_record(None)

    def set_record(
        self,
        record: GalleryRecord | None,
        image: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        heat: np.ndarray | None = None,
    ) -> None:
        """Show ``record``; ``image``/``mask``/``heat`` are only reloaded when the record changes
        field."""
        same_field = record is not None and self.record is not None and record.id == self.record.id
        self.record = record
        if not same_field:
            self._image, self._mask = image, mask
            self._heat = (
                heat
                if heat is not None and image is not None and heat.shape == image.shape[:2]
                else None
            )
            self._render()
        for widget in (
            self.accept_button, self.dismiss_button, self.comment_edit, self.overlay_box,
        ):
            widget.setEnabled(record is not None)
        self.cam_box.setEnabled(self._heat is not None)
        if record is None:
            self.info_label.setText("")
            self.decision_label.setText("")
            self.comment_edit.clear()
            return
        self.info_label.setText(_describe(record))
        self.decision_label.setText(f"<b>{DECISION_TEXT.get(record.decision, record.decision)}</b>")
        if not self.comment_edit.hasFocus():
            self.comment_edit.setText(record.comment)

    def toggle_overlay(self) -> None:
        self.overlay_box.setChecked(not self.overlay_box.isChecked())

    def toggle_cam(self) -> None:
        self.cam_box.setChecked(not self.cam_box.isChecked())

    def displayed_image(self) -> np.ndarray | None:
        """The field as drawn now (before scaling to the label): heat map and outlines applied."""
        if self._image is None:
            return None
        shown = (
            overlay(self._image, self._heat)
            if self.cam_box.isChecked() and self._heat is not None
            else self._image
        )
        return outlined(shown, self._mask) if self.overlay_box.isChecked() else shown

    def edit_comment(self) -> None:
        if self.record is not None:
            self.comment_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
            self.comment_edit.selectAll()

    def _save_comment(self) -> None:
        self.comment_entered.emit(self.comment_edit.text())

    def _render(self) -> None:
        self.viewer.set_image(self.displayed_image(), keep_view=True)


def _describe(record: GalleryRecord) -> str:
    result = record.result
    kind = "captured by hand" if record.kind == "manual" else "flagged automatically"
    if record.cells is not None:  # judged by cells: the field model only reads the subtype
        cells = record.cells
        likely = subtype_text(cells, result.subtype)
        return (
            f"{result.name or result.source} · {kind} · {cells_text(cells.cells)}<br>"
            f"{verdict_text(cells)}" + (f" · {likely} (field model)" if likely else "")
        )
    probs = result.probability_map() or {}
    lines = ", ".join(f"{name} {p:.2f}" for name, p in probs.items()) or "not classified"
    p_all = "—" if result.p_all is None else f"{result.p_all:.2f}"
    return (
        f"{result.name or result.source} · {kind} · {result.wbc_count} WBC<br>P(ALL) {p_all} · "
        f"{lines}"
    )


class ReviewPanel(QWidget):
    """Gallery and review pane side by side, with the review keys bound on both."""

    error = Signal(str, str)  # what happened, what to do

    def __init__(self, model: GalleryModel, store: FieldStore | None = None, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.store = store
        self.gallery = GalleryView(model, self)
        self.pane = ReviewPane(self)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        column, self.controls = with_controls(model, self.gallery, self)
        splitter.addWidget(column)
        splitter.addWidget(self.pane)
        splitter.setSizes([360, 440])
        self.gallery.setMinimumWidth(190)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.gallery.selectionModel().currentChanged.connect(lambda *_: self._show_current())
        self.gallery.activated.connect(lambda *_: self.pane.setFocus())
        self.pane.decide.connect(self.review)
        self.pane.comment_entered.connect(self.comment)
        self._keys = {
            Qt.Key.Key_A: lambda: self.review("accept"),
            Qt.Key.Key_D: lambda: self.review("dismiss"),
            Qt.Key.Key_C: self.pane.edit_comment,
            Qt.Key.Key_O: self.pane.toggle_overlay,
            Qt.Key.Key_H: self.pane.toggle_cam,
        }
        self._pane_keys = {
            Qt.Key.Key_Right: 1,
            Qt.Key.Key_Down: 1,
            Qt.Key.Key_Left: -1,
            Qt.Key.Key_Up: -1,
        }
        for widget in (self.pane, self.gallery, self.pane.comment_edit):
            widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # Qt's name
        """The review keys, on the gallery and the pane; the comment field only takes Escape."""
        if (
            event.type() != QEvent.Type.KeyPress
            or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        ):
            return False
        key = event.key()
        if watched is self.pane.comment_edit:
            if key == Qt.Key.Key_Escape:
                self.pane.comment_edit.setText(self.pane.record.comment if self.pane.record else "")
                self._leave_comment()
                return True
            return False
        if key in self._keys:
            self._keys[key]()
            return True
        if watched is self.pane and key in self._pane_keys:
            self.step(self._pane_keys[key])
            return True
        return False

    def current_row(self) -> int:
        return self.gallery.currentIndex().row()

    def select(self, row: int) -> None:
        """Make ``row`` the current field (clamped to the gallery)."""
        if self.model.rowCount() == 0:
            return
        row = max(0, min(row, self.model.rowCount() - 1))
        self.gallery.selectionModel().setCurrentIndex(
            self.model.index(row), QItemSelectionModel.SelectionFlag.ClearAndSelect
        )

    def step(self, offset: int) -> None:
        """Move the selection by ``offset`` fields (the first field if none is selected)."""
        row = self.current_row()
        self.select(row + offset if row >= 0 else 0)

    def review(self, decision: str) -> None:
        record = self.pane.record
        if record is None or self.store is None:
            return
        self._apply(record.id, decision, self.pane.comment_edit.text())

    def comment(self, text: str) -> None:
        record = self.pane.record
        if record is not None and self.store is not None:
            self._apply(record.id, record.decision, text)
            self._leave_comment()

    def _apply(self, field_id, decision: str | None, comment: str) -> None:
        if self.store is None:  # no field can be shown without a store
            return
        try:
            updated = self.store.review(field_id, decision, comment)
        except Exception as exc:  # shown to the user, nothing is lost
            self.error.emit(
                f"The review of field {field_id} was not saved ({exc}).",
                "The field is unchanged; try again, or check the session's storage.",
            )
            return
        self.model.update_record(updated)
        self.pane.set_record(updated)

    def _leave_comment(self) -> None:
        self.pane.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _show_current(self) -> None:
        row = self.current_row()
        if row < 0 or self.store is None:
            self.pane.set_record(None)
            return
        record = self.model.record(row)
        try:
            image, mask = self.store.full_image(record.id), self.store.mask(record.id)
        except Exception as exc:
            self.error.emit(
                f"Field {record.id} could not be loaded ({exc}).",
                "Its record is kept; check the session's storage.",
            )
            image, mask = record.thumbnail, None
        self.pane.set_record(None)
        self.pane.set_record(record, image, mask, self._heat_map(record))
        self.pane.viewer.set_cells(overlays(self._saved_cells(record), record.result.cells))

    def _saved_cells(self, record: GalleryRecord) -> list:
        """The field's saved cells with their reviewed labels (a session's store), else none."""
        session_store = getattr(self.store, "store", None)
        cells = getattr(session_store, "cells", None)
        if not callable(cells):
            return []
        try:
            return list(cells(field_id=record.id))
        except Exception as exc:
            self.error.emit(f"The cells of field {record.id} could not be read ({exc}).",
                            "The field is shown without them.")
            return []

    def _heat_map(self, record: GalleryRecord) -> np.ndarray | None:
        """The record's evidence map, if the store keeps one; a failure is reported, not raised."""
        heat_map = getattr(self.store, "heat_map", None)
        if not callable(heat_map):
            return None
        try:
            return heat_map(record.id)
        except Exception as exc:
            self.error.emit(
                f"The evidence map of field {record.id} could not be loaded ({exc}).",
                "The field itself is shown; check the session's storage.",
            )
            return None
