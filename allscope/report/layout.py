"""Page layout for the PDF report: blocks of known height stacked onto A4 pages.

Every block can say its height before anything is drawn, so the report is paginated first
and drawn second; that is what lets every footer say "Page i of n". Text goes through
QTextLayout, which shapes Arabic/Persian, applies the Unicode bidi algorithm, and wraps at
word boundaries or, for very long words, anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QPaintDevice,
    QPainter,
    QTextLayout,
    QTextOption,
)

from allscope.core.text import without_bidi


class TextBox:
    """A paragraph wrapped to a width: measure with ``height``, then ``draw``."""

    def __init__(
        self,
        text: str,
        font: QFont,
        width: float,
        device: QPaintDevice,
        color: QColor | None = None,
    ) -> None:
        self.color = color or QColor(20, 20, 20)
        self._layouts: list[QTextLayout] = []
        self.height = 0.0
        option = QTextOption()
        option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
        option.setTextDirection(Qt.LayoutDirection.LayoutDirectionAuto)
        # direction overrides (U+202E...) are shown as codes: they cannot reverse the report
        for paragraph in without_bidi(text or " ").split("\n"):
            layout = QTextLayout(paragraph or " ", font, device)
            layout.setTextOption(option)
            layout.beginLayout()
            while True:
                line = layout.createLine()
                if not line.isValid():
                    break
                line.setLineWidth(width)
                line.setPosition(QPointF(0, self.height))
                self.height += line.height()
            layout.endLayout()
            self._layouts.append(layout)

    def draw(self, painter: QPainter, x: float, y: float) -> None:
        painter.setPen(self.color)
        for layout in self._layouts:
            layout.draw(painter, QPointF(x, y))


class Block:
    """Something with a fixed height that is drawn at a position on a page."""

    height: float = 0.0
    keep_with_next: bool = False  # headings stay on the page of what follows them

    def draw(self, painter: QPainter, x: float, y: float) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class TextBlock(Block):
    def __init__(
        self, text: str, font: QFont, width: float, device: QPaintDevice, *,
        space_after: float = 0.0, color: QColor | None = None, keep_with_next: bool = False,
    ) -> None:
        self.box = TextBox(text, font, width, device, color)
        self.height = self.box.height + space_after
        self.keep_with_next = keep_with_next

    def draw(self, painter: QPainter, x: float, y: float) -> None:
        self.box.draw(painter, x, y)


class RowBlock(Block):
    """One label/value row of a table; the value wraps, the label column has a fixed width."""

    def __init__(
        self, label: str, value: str, font: QFont, bold: QFont, width: float, device: QPaintDevice,
        label_width: float, padding: float,
    ) -> None:
        self.label = TextBox(label, bold, label_width - padding, device, QColor(70, 70, 70))
        self.value = TextBox(value, font, width - label_width, device)
        self.label_width = label_width
        self.padding = padding
        self.height = max(self.label.height, self.value.height) + padding

    def draw(self, painter: QPainter, x: float, y: float) -> None:
        self.label.draw(painter, x, y + self.padding / 2)
        self.value.draw(painter, x + self.label_width, y + self.padding / 2)


class ColumnsBlock(Block):
    """One row of a table with several wrapped columns of given widths (a header row when bold)."""

    def __init__(
        self,
        cells: list[str],
        widths: list[float],
        font: QFont,
        device: QPaintDevice,
        padding: float,
        color: QColor | None = None,
        shade: QColor | None = None,
    ) -> None:
        self.boxes = [
            TextBox(text, font, width - padding, device, color)
            for text, width in zip(cells, widths, strict=True)
        ]
        self.widths = widths
        self.padding = padding
        self.shade = shade
        self.height = max(box.height for box in self.boxes) + padding

    def draw(self, painter: QPainter, x: float, y: float) -> None:
        if self.shade is not None:
            painter.fillRect(QRectF(x, y, sum(self.widths), self.height), self.shade)
        for box, width in zip(self.boxes, self.widths, strict=True):
            box.draw(painter, x + self.padding / 2, y + self.padding / 2)
            x += width


class BoxBlock(Block):
    """Text in a tinted box with a border (the disclaimer in the body)."""

    def __init__(
        self, text: str, font: QFont, width: float, device: QPaintDevice, padding: float,
        space_after: float,
        colors: tuple[QColor, QColor, QColor] | None = None,
    ) -> None:
        text_color, self.border, self.fill = colors or (
            QColor(120, 20, 20),
            QColor(170, 60, 60),
            QColor(253, 238, 238),
        )
        self.box = TextBox(text, font, width - 2 * padding, device, text_color)
        self.width = width
        self.padding = padding
        self.inner = self.box.height + 2 * padding
        self.height = self.inner + space_after

    def draw(self, painter: QPainter, x: float, y: float) -> None:
        painter.save()
        painter.setPen(self.border)
        painter.setBrush(self.fill)
        painter.drawRect(QRectF(x, y, self.width, self.inner))
        painter.restore()
        self.box.draw(painter, x + self.padding, y + self.padding)


class SpacerBlock(Block):
    def __init__(self, height: float) -> None:
        self.height = height

    def draw(self, painter: QPainter, x: float, y: float) -> None:
        pass


class PageBreak(Block):
    """Starts a new page (unless the current one is still empty)."""


class DrawBlock(Block):
    """A block whose drawing is delegated, for content prepared only at draw time (images)."""

    def __init__(self, height: float, draw: Callable[[QPainter, float, float], None]) -> None:
        self.height = height
        self._draw = draw

    def draw(self, painter: QPainter, x: float, y: float) -> None:
        self._draw(painter, x, y)


@dataclass
class Placed:
    block: Block
    y: float


def paginate(blocks: list[Block], top: float, bottom: float) -> list[list[Placed]]:
    """Stack blocks from ``top`` down; a block that does not fit starts the next page."""
    pages: list[list[Placed]] = [[]]
    y = top
    for index, block in enumerate(blocks):
        if isinstance(block, PageBreak):
            if pages[-1]:
                pages.append([])
                y = top
            continue
        needed = block.height
        if block.keep_with_next and index + 1 < len(blocks):
            needed += blocks[index + 1].height
        if y + needed > bottom and pages[-1]:
            pages.append([])
            y = top
        pages[-1].append(Placed(block, y))
        y += block.height
    return pages
