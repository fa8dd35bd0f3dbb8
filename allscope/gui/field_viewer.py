"""A field at full resolution with smooth zoom (wheel, +/-) and pan (drag), and a scale bar.

QGraphicsView keeps the whole image as one pixmap item; zooming changes the view transform,
so pixels stay sharp at any magnification. Double-click or 0 fits the field to the view.
"""

from __future__ import annotations

import cv2
import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QWheelEvent
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView, QLabel, QWidget

from allscope.app.cell_overlay import CellOverlay, inset_first
from allscope.app.scale import scale_bar
from allscope.gui.gallery import bgr_to_pixmap

ZOOM_STEP = 1.25
INSET_PX = 120
MAX_ZOOM = 16.0


class FieldViewer(QGraphicsView):
    """Shows one BGR field; ``microns_per_pixel`` (or None) sets the scale bar."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.microns_per_pixel: float | None = None
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setBackgroundBrush(QColor(40, 40, 40))
        self.setMinimumSize(240, 135)
        self._fitted = True
        self._cell_items: list = []
        self.cells: list[CellOverlay] = []
        self.inset = QLabel(self)  # the selected cell, enlarged, in the top-left corner
        self.inset.setStyleSheet("background: #222; border: 2px solid #ddd;")
        self.inset.hide()
        self._image: np.ndarray | None = None

    @property
    def zoom(self) -> float:
        """Screen pixels per image pixel."""
        return float(self.transform().m11())

    def set_image(self, bgr: np.ndarray | None, keep_view: bool = False) -> None:
        if bgr is None:
            self._item.setPixmap(bgr_to_pixmap(np.zeros((1, 1, 3), np.uint8)))
            return
        self._image = bgr
        self._item.setPixmap(bgr_to_pixmap(bgr))
        self.scene().setSceneRect(QRectF(0, 0, bgr.shape[1], bgr.shape[0]))
        if not keep_view or self._fitted:
            self.fit()

    def set_cells(self, cells: list[CellOverlay]) -> None:
        """Outline and label each cell (blasts in red) and show the most blast-like enlarged."""
        for item in self._cell_items:
            self.scene().removeItem(item)
        self._cell_items, self.cells = [], cells
        for cell in cells:
            colour = QColor(230, 40, 40) if cell.blast else QColor(0, 220, 255)
            path = QPainterPath()
            if cell.contour:
                path.moveTo(*cell.contour[0])
                for point in cell.contour[1:]:
                    path.lineTo(*point)
                path.closeSubpath()
            outline = self.scene().addPath(path, QPen(colour, 0))  # cosmetic: 1 screen pixel
            label = self.scene().addSimpleText(cell.caption)
            label.setBrush(colour)
            label.setFlag(label.GraphicsItemFlag.ItemIgnoresTransformations)
            label.setPos(cell.bbox[0], cell.bbox[1] + cell.bbox[3])
            self._cell_items += [outline, label]
        self.show_inset(inset_first(cells))

    def show_inset(self, cell: CellOverlay | None) -> None:
        if cell is None or self._image is None:
            self.inset.hide()
            return
        x, y, w, h = cell.bbox
        pad = max(w, h) // 3
        crop = self._image[max(0, y - pad):y + h + pad, max(0, x - pad):x + w + pad]
        if crop.size == 0:
            self.inset.hide()
            return
        self.inset.setPixmap(bgr_to_pixmap(cv2.resize(crop, (INSET_PX, INSET_PX))))
        self.inset.setToolTip(f"Enlarged: {cell.caption}")
        self.inset.setGeometry(8, 8, INSET_PX + 4, INSET_PX + 4)
        self.inset.show()

    def mousePressEvent(self, event) -> None:
        point = self.mapToScene(event.position().toPoint())
        for cell in self.cells:
            x, y, w, h = cell.bbox
            if x <= point.x() <= x + w and y <= point.y() <= y + h:
                self.show_inset(cell)
                break
        super().mousePressEvent(event)

    def fit(self) -> None:
        self.fitInView(self.scene().sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self._fitted = True
        self.viewport().update()

    def zoom_by(self, factor: float) -> None:
        factor = min(factor, MAX_ZOOM / max(self.zoom, 1e-6))
        self.scale(factor, factor)
        self._fitted = False
        self.viewport().update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.zoom_by(ZOOM_STEP if event.angleDelta().y() > 0 else 1 / ZOOM_STEP)

    def mouseDoubleClickEvent(self, event) -> None:
        self.fit()

    def keyPressEvent(self, event) -> None:
        keys = {
            Qt.Key.Key_Plus: lambda: self.zoom_by(ZOOM_STEP),
            Qt.Key.Key_Equal: lambda: self.zoom_by(ZOOM_STEP),
            Qt.Key.Key_Minus: lambda: self.zoom_by(1 / ZOOM_STEP),
            Qt.Key.Key_0: self.fit,
        }
        if event.key() in keys:
            keys[event.key()]()
            return
        super().keyPressEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    def drawForeground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        bar = scale_bar(self.microns_per_pixel, self.zoom)
        if bar is None:
            return
        painter.save()
        painter.resetTransform()  # draw in viewport pixels
        view = self.viewport().rect()
        x1, y = view.right() - 16.0, view.bottom() - 16.0
        x0 = x1 - bar.pixels
        painter.fillRect(QRectF(x0 - 6, y - 22, bar.pixels + 12, 30), QColor(0, 0, 0, 140))
        painter.setPen(QPen(QColor(255, 255, 255), 3))
        painter.drawLine(QPointF(x0, y), QPointF(x1, y))
        painter.setFont(QFont(painter.font().family(), 9, QFont.Weight.Bold))
        painter.drawText(
            QRectF(x0, y - 20, bar.pixels, 16), Qt.AlignmentFlag.AlignCenter, bar.label
        )
        painter.restore()
