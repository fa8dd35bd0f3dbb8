"""The flag gallery: thumbnails of flagged and hand-captured fields, shown only once stored.

A record reaches ``GalleryModel`` only after the store (``allscope.app.field_store``) has
acknowledged it as durable.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPixmap
from PySide6.QtWidgets import QListView

from allscope.app.cell_words import verdict_class
from allscope.app.field_store import THUMB_WIDTH, GalleryRecord
from allscope.app.gallery_order import ALL_CLASSES, LocationGroups, caption, ordered

RecordRole = Qt.ItemDataRole.UserRole + 1


def bgr_to_pixmap(bgr: np.ndarray) -> QPixmap:
    rgb = np.ascontiguousarray(bgr[:, :, ::-1])
    image = QImage(
        rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0], QImage.Format.Format_RGB888
    )
    return QPixmap.fromImage(image.copy())


def record_caption(record: GalleryRecord, repeats: int = 0) -> str:
    """Label under a thumbnail: kind, verdict (cells or P(ALL)), time, source, review state."""
    return caption(record, repeats)


class GalleryModel(QAbstractListModel):
    """The stored fields, one row per slide location, in the chosen order and filter.

    ``records()`` is every field in capture order (repeats at a location included); the rows
    are the location entries, listed by ``set_view(order, class_filter)``. A new field is
    inserted where the order puts it; a review changes its row in place (no jumping rows).
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._all: list[GalleryRecord] = []
        self._records: list[GalleryRecord] = []  # the visible entries
        self._entry_of: dict[int | str, int | str] = {}  # record id -> its location entry id
        self._repeats: dict[int | str, int] = {}
        self._groups = LocationGroups()
        self._pixmaps: dict[int | str, QPixmap] = {}
        self.order, self.class_filter = "time", ALL_CLASSES

    def rowCount(
        self, parent: QModelIndex | QPersistentModelIndex | None = None
    ) -> int:  # Qt's name
        return 0 if parent is not None and parent.isValid() else len(self._records)

    def data(self, index: QModelIndex | QPersistentModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self._records):
            return None
        record = self._records[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return record_caption(record, self._repeats.get(record.id, 0))
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
        if role == Qt.ItemDataRole.ForegroundRole and record.decision == "dismiss":
            return QColor(110, 110, 110)
        if role == RecordRole:
            return record
        return None

    def add_record(self, record: GalleryRecord) -> None:
        self._all.append(record)
        entry = (
            self._groups.place(record.id, record.thumbnail) if record.kind == "flag" else record.id
        )
        self._entry_of[record.id] = entry
        if entry != record.id:
            self._repeats[entry] = self._repeats.get(entry, 0) + 1
            self._changed(entry)
            return
        listed = ordered([*self._records, record], self.order, self.class_filter)
        if record not in listed:
            return
        row = listed.index(record)
        self.beginInsertRows(QModelIndex(), row, row)
        self._records.insert(row, record)
        self.endInsertRows()

    def update_record(self, record: GalleryRecord) -> None:
        """Replace the record with the same id (after a review)."""
        for position, old in enumerate(self._all):
            if old.id == record.id:
                self._all[position] = record
                break
        else:
            raise KeyError(f"no record {record.id!r} in the gallery")
        for row, old in enumerate(self._records):
            if old.id == record.id:
                self._records[row] = record
                self._changed(record.id)

    def set_view(self, order: str | None = None, class_filter: str | None = None) -> None:
        """List the entries in another order or filter."""
        self.order = order or self.order
        self.class_filter = class_filter or self.class_filter
        entries = [r for r in self._all if self._entry_of.get(r.id) == r.id]
        self.beginResetModel()
        self._records = ordered(entries, self.order, self.class_filter)
        self.endResetModel()

    def classes(self) -> list[str]:
        found = (verdict_class(r.result, r.cells) for r in self._all)
        return sorted({name for name in found if name})

    def repeats(self, record_id) -> int:
        return self._repeats.get(record_id, 0)

    def record(self, row: int) -> GalleryRecord:
        return self._records[row]

    def records(self) -> list[GalleryRecord]:
        """Every field held, in capture order (repeats at one location included)."""
        return list(self._all)

    def clear(self) -> None:
        self.beginResetModel()
        self._all.clear()
        self._records.clear()
        self._entry_of.clear()
        self._repeats.clear()
        self._groups.clear()
        self._pixmaps.clear()
        self.endResetModel()

    def _changed(self, record_id) -> None:
        for row, shown in enumerate(self._records):
            if shown.id == record_id:
                index = self.index(row)
                self.dataChanged.emit(index, index)


class GalleryView(QListView):
    """Thumbnails in a wrapping grid; arrow keys move, Enter or a click opens the review."""

    def __init__(self, model: GalleryModel, parent=None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(THUMB_WIDTH, THUMB_WIDTH * 9 // 16))
        line = self.fontMetrics().lineSpacing()  # up to five caption lines under a thumbnail
        self.setGridSize(QSize(THUMB_WIDTH + 40, THUMB_WIDTH * 9 // 16 + 5 * line + 12))
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setSpacing(4)
        self.setUniformItemSizes(True)
