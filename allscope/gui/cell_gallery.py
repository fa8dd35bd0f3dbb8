"""The cell gallery: the session's saved cells grouped by type with counts, as CellaVision shows
them. A digit key moves the selected cell to a type, A accepts it, D dismisses it (not a white
cell). Every change goes to the store's append-only cell review trail first; the gallery and
the tally are then re-read from the store, so what is shown is what was recorded."""

from __future__ import annotations

from collections import OrderedDict

import cv2
import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QFont, QIcon, QKeyEvent
from PySide6.QtWidgets import QLabel, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from allscope.app.cell_review import DISMISSED, digit_keys, grouped, key_sheet
from allscope.core.store import SessionStore
from allscope.gui.gallery import bgr_to_pixmap

CROP_PX = 72
CellRole = Qt.ItemDataRole.UserRole + 2
IMAGE_CACHE = 8  # field images kept decoded


class CellGallery(QWidget):
    """Cells of one session; ``changed`` fires after each recorded review."""

    changed = Signal()

    def __init__(self, store: SessionStore, classes: tuple[str, ...], reviewer: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.classes, self.reviewer = store, classes, reviewer
        self.session_id: int | None = None
        self.keys = digit_keys(classes)
        self._images: OrderedDict[int, np.ndarray | None] = OrderedDict()
        self.tree = QTreeWidget(self)
        self.tree.setHeaderHidden(True)
        self.tree.setIconSize(QSize(CROP_PX, CROP_PX))
        self.tree.installEventFilter(self)
        hint = QLabel(key_sheet(classes), self)
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(hint)
        layout.addWidget(self.tree, 1)

    def show_session(self, session_id: int | None) -> None:
        self.session_id = session_id
        self.refresh()

    def refresh(self) -> None:
        """Re-read the cells and their current review state from the store."""
        selected = self.selected_cell_id()
        self.tree.clear()
        if self.session_id is None:
            return
        cells = self.store.cells(session_id=self.session_id)
        for name, members in grouped(cells, self.classes):
            title = "Dismissed" if name == DISMISSED else name.capitalize()  # not counted
            group = QTreeWidgetItem(self.tree, [f"{title} ({len(members)})"])
            font = QFont(group.font(0))
            font.setBold(True)
            group.setFont(0, font)
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            for cell in members:
                item = QTreeWidgetItem(group, [self._caption(cell)])
                item.setData(0, CellRole, cell.id)
                item.setIcon(0, self._icon(cell))
                if cell.id == selected:
                    self.tree.setCurrentItem(item)
            group.setExpanded(True)

    def group_counts(self) -> dict[str, int]:
        """Type -> number of cells listed under it (as shown in the group titles)."""
        out = {}
        for group in self._groups():
            name, count = group.text(0).rsplit(" (", 1)
            out[name] = int(count.rstrip(")"))
        return out

    def select(self, cell_id: int) -> None:
        for group in self._groups():
            for index in range(group.childCount()):
                item = group.child(index)
                if item is not None and item.data(0, CellRole) == cell_id:
                    self.tree.setCurrentItem(item)
                    return
        raise KeyError(f"cell {cell_id} is not in the gallery")

    def _groups(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount()))
        return [item for item in items if item is not None]

    def selected_cell_id(self) -> int | None:
        item = self.tree.currentItem()
        return None if item is None else item.data(0, CellRole)

    def review(self, action: str, label: str | None = None) -> None:
        """Record a reclassification, accept or dismiss of the selected cell, then re-read."""
        cell_id = self.selected_cell_id()
        if cell_id is None:
            return
        self.store.review_cell(cell_id, action, label, reviewer=self.reviewer)
        self.refresh()
        self.changed.emit()

    def eventFilter(self, watched, event) -> bool:
        if not isinstance(event, QKeyEvent) or event.type() != QKeyEvent.Type.KeyPress:
            return False
        text = event.text().lower()
        if text in self.keys:
            self.review("reclassify", self.keys[text])
            return True
        if text in ("a", "d"):
            self.review("accept" if text == "a" else "dismiss")
            return True
        return False

    def _caption(self, cell) -> str:
        size = "" if cell.diameter_um is None else f" · {cell.diameter_um:.1f} µm"
        mark = {"accept": " ✔", "dismiss": " ✖"}.get(cell.decision or "", "")
        changed = "" if cell.current_label == cell.label else f" (called {cell.label})"
        return f"no. {cell.id} · P(blast) {cell.p_blast:.2f}{size}{changed}{mark}"

    def _icon(self, cell) -> QIcon:
        image = self._field_image(cell.field_id)
        if image is None:
            return QIcon()
        x, y, w, h = cell.bbox
        pad = max(w, h) // 4
        height, width = image.shape[:2]
        rows = slice(max(0, y - pad), min(height, y + h + pad))
        crop = image[rows, max(0, x - pad):min(width, x + w + pad)]
        if crop.size == 0:
            return QIcon()
        small = cv2.resize(crop, (CROP_PX, CROP_PX), interpolation=cv2.INTER_AREA)
        return QIcon(bgr_to_pixmap(small))

    def _field_image(self, field_id: int) -> np.ndarray | None:
        if field_id not in self._images:
            path = self.store.get_field(field_id).image_path
            self._images[field_id] = cv2.imread(str(path), cv2.IMREAD_COLOR)
            while len(self._images) > IMAGE_CACHE:
                self._images.popitem(last=False)
        return self._images[field_id]
