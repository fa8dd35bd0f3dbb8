"""The flag gallery: thumbnails of flagged and hand-captured fields, shown only once stored.

A record reaches ``GalleryModel`` only after the store (``allscope.app.field_store``) has
acknowledged it as durable.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QListView

from allscope.app.field_store import THUMB_WIDTH, GalleryRecord

RecordRole = Qt.ItemDataRole.UserRole + 1


def bgr_to_pixmap(bgr: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    image = QImage(
        rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888
    )
    return QPixmap.fromImage(image.copy())


def record_caption(record: GalleryRecord) -> str:
    """Short text under a thumbnail: decision mark, how it was captured, P(ALL)."""
    result = record.result
    p = "—" if result.p_all is None else f"{result.p_all:.2f}"
    mark = {"accept": "✔ ", "dismiss": "✖ "}.get(record.decision or "", "")
    kind = "✋" if record.kind == "manual" else "⚑"
    return f"{mark}{kind} P(ALL) {p}"


class GalleryModel(QAbstractListModel):
    """The stored fields in capture order; thumbnails are converted to pixmaps once."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._records: list[GalleryRecord] = []
        self._pixmaps: dict[int, QPixmap] = {}

    def rowCount(
        self, parent: QModelIndex | QPersistentModelIndex | None = None
    ) -> int:  # Qt's name
        return 0 if parent is not None and parent.isValid() else len(self._records)

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return record_caption(record)
        if role == Qt.ItemDataRole.DecorationRole:
            if record.id not in self._pixmaps:
                self._pixmaps[record.id] = bgr_to_pixmap(record.thumbnail)
            return self._pixmaps[record.id]
        if role == Qt.ItemDataRole.ToolTipRole:
            kind = "captured by hand" if record.kind == "manual" else "flagged automatically"
            return (
                f"{record.result.name or record.result.source} · {kind} · "
                f"{record.comment or 'no comment'}"
            )
        if role == Qt.ItemDataRole.BackgroundRole and record.decision == "dismiss":
            return QColor(230, 230, 230)
        if role == RecordRole:
            return record
        return None

    def add_record(self, record: GalleryRecord) -> None:
        row = len(self._records)
        self.beginInsertRows(QModelIndex(), row, row)
        self._records.append(record)
        self.endInsertRows()

    def update_record(self, record: GalleryRecord) -> None:
        """Replace the record with the same id (after a review)."""
        for row, old in enumerate(self._records):
            if old.id == record.id:
                self._records[row] = record
                index = self.index(row)
                self.dataChanged.emit(index, index)
                return
        raise KeyError(f"no record {record.id!r} in the gallery")

    def record(self, row: int) -> GalleryRecord:
        return self._records[row]

    def records(self) -> list[GalleryRecord]:
        return list(self._records)

    def clear(self) -> None:
        self.beginResetModel()
        self._records.clear()
        self._pixmaps.clear()
        self.endResetModel()


class GalleryView(QListView):
    """Thumbnails in a wrapping grid; arrow keys move, Enter or a click opens the review."""

    def __init__(self, model: GalleryModel, parent=None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB_WIDTH, THUMB_WIDTH * 9 // 16))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setSpacing(4)
        self.setUniformItemSizes(True)
