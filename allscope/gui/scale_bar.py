"""The scale bar overlay (a child widget in a view's corner) and the Microscope ▸ Scale dialog."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QInputDialog, QWidget

from allscope.app.scale import ScaleBar, from_micrometer, parse_scale

OBJECTIVES = ("10×", "20×", "40×", "50× oil", "60×", "100× oil")


class ScaleBarOverlay(QWidget):
    """Draws ``bar`` in the bottom-right corner of its parent; invisible without one."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.bar: ScaleBar | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def set_bar(self, bar: ScaleBar | None) -> None:
        if bar == self.bar:
            return
        self.bar = bar
        self.setVisible(bar is not None)
        if bar is not None:
            width, height = int(bar.pixels) + 16, 34
            parent = self.parentWidget()
            if parent is not None:
                left, top = parent.width() - width - 10, parent.height() - height - 10
                self.setGeometry(left, top, width, height)
            self.update()

    def paintEvent(self, event) -> None:
        if self.bar is None:
            return
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 140))
        y = self.height() - 9.0
        painter.setPen(QPen(QColor(255, 255, 255), 3))
        painter.drawLine(QPointF(8, y), QPointF(8 + self.bar.pixels, y))
        painter.drawText(
            QRectF(0, 2, self.width(), 18), Qt.AlignmentFlag.AlignCenter, self.bar.label
        )
        painter.end()


def ask_scale(window, settings, banner) -> tuple[str, float] | None:
    """Ask for the objective and its µm per pixel (typed, or "µm/pixels" from a micrometer)."""
    objective, ok = QInputDialog.getItem(
        window,
        "Microscope scale",
        "Objective in use:",
        list(OBJECTIVES),
        list(OBJECTIVES).index(settings.objective)
        if settings.objective in OBJECTIVES
        else 5,
        True,
    )
    if not ok or not objective.strip():
        return None
    known = settings.microns_per_pixel.get(objective)
    text, ok = QInputDialog.getText(
        window,
        "Microscope scale",
        f"Micrometres per pixel with the {objective} objective (for example 0.1),\n"
        "or from a stage micrometer: its length in µm / the pixels it spans (for example 100/870):",
        text="" if known is None else f"{known:g}",
    )
    if not ok or not text.strip():
        return None
    try:
        if "/" in text:
            um, px = (float(part.replace(",", ".")) for part in text.split("/", 1))
            value = from_micrometer(um, px)
        else:
            value = parse_scale(text)
    except ValueError as exc:
        banner.show_message(
            f"The scale was not set: {exc}",
            "Microscope ▸ Scale… to try again.",
            "warning",
            key="scale",
        )
        return None
    return objective.strip(), value
