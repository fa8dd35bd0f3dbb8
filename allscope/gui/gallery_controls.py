"""The bar above the flag gallery: order (unreviewed first, by P(ALL), capture order) and a
class filter (each class the gallery holds, or hand captures only)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from allscope.app.gallery_order import ALL_CLASSES, HAND, ORDERS
from allscope.gui.gallery import GalleryModel


class GalleryControls(QWidget):
    """Order and filter boxes bound to a :class:`GalleryModel`."""

    def __init__(self, model: GalleryModel, parent=None) -> None:
        super().__init__(parent)
        self.model = model
        self.order = QComboBox(self)
        for key, words in ORDERS.items():
            self.order.addItem(words, key)
        self.order.setCurrentIndex(list(ORDERS).index(model.order))
        self.filter = QComboBox(self)
        self.filter.addItem(ALL_CLASSES)
        self.filter.setToolTip("Show only fields of one class, or only the fields captured by hand")
        self.order.setToolTip("Order of the gallery")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Show", self))
        layout.addWidget(self.order, 1)
        layout.addWidget(self.filter, 1)
        self.order.currentIndexChanged.connect(self._apply)
        self.filter.currentIndexChanged.connect(self._apply)
        model.rowsInserted.connect(self._refresh_classes)
        model.modelReset.connect(self._refresh_classes)

    def _apply(self, *_) -> None:
        self.model.set_view(self.order.currentData(), self.filter.currentText() or ALL_CLASSES)

    def _refresh_classes(self, *_) -> None:
        wanted = [ALL_CLASSES, *self.model.classes(), HAND]
        have = [self.filter.itemText(i) for i in range(self.filter.count())]
        if have == wanted:
            return
        current = self.filter.currentText()
        self.filter.blockSignals(True)
        self.filter.clear()
        self.filter.addItems(wanted)
        self.filter.setCurrentIndex(max(0, self.filter.findText(current)))
        self.filter.blockSignals(False)


def with_controls(
    model: GalleryModel, gallery: QWidget, parent=None
) -> tuple[QWidget, GalleryControls]:
    """A column holding the controls over the gallery view."""
    column = QWidget(parent)
    controls = GalleryControls(model, column)
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(controls)
    layout.addWidget(gallery, 1)
    return column, controls
