"""Zoomed insets of the called cells of a representative field, and the words about its cells.

A pathologist judges a blast on the cell, not on a field drawn a few centimetres wide: each
field of the report marks its called blasts on the picture with a numbered box and shows each
one enlarged in a row under it, with its P(blast) and review state. A cell counts as called
when the model called it a blast and no person moved it to another type, or when a person
moved it to blast; dismissed cells are never called.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen

from allscope.core.store.cells import CellRecord

MAX_INSETS = 6  # per field; the rest are counted, every cell is in the CSV/JSON export
INSET_MM = 24.0
CAPTION_MM = 4.0
BLAST_RED = QColor(200, 30, 30)


def called_blasts(cells: Sequence[CellRecord], blast_class: str = "blast") -> list[CellRecord]:
    """The field's cells called a blast as the review left them, most blast-like first."""
    def called(cell: CellRecord) -> bool:
        if cell.decision == "dismiss":
            return False
        moved = cell.current_label != cell.label
        return cell.current_label == blast_class if moved else cell.is_blast

    return sorted((c for c in cells if called(c)), key=lambda c: -c.p_blast)


def cells_line(cells: Sequence[CellRecord], subtype: str | None) -> str:
    """"Cells: 6 white cells, 4 called blast (highest P(blast) 0.64); likely Pre-B"."""
    kept = [c for c in cells if c.decision != "dismiss"]
    blasts = called_blasts(cells)
    line = f"Cells: {len(kept)} white cell(s), {len(blasts)} called blast"
    if kept:
        line += f" (highest P(blast) {max(c.p_blast for c in kept):.2f})"
    dismissed = len(cells) - len(kept)
    if dismissed:
        line += f", {dismissed} dismissed by the reviewer"
    if blasts and subtype:
        line += f"; subtype read by the field model: likely {subtype}"
    return line


def insets_height(page, cells: Sequence[CellRecord]) -> float:
    """The height of the inset row (0 when the field has no called blast)."""
    return (INSET_MM + CAPTION_MM + 2) * page.mm if called_blasts(cells) else 0.0


def mark_cells(painter: QPainter, target: QRectF, field_size: tuple[int, int],
               cells: Sequence[CellRecord], page) -> None:
    """Numbered red boxes on the field picture around its called blasts (the inset numbers);
    ``field_size`` is the saved field's size, in whose pixels the cells' boxes are."""
    sx = target.width() / max(1, field_size[0])
    sy = target.height() / max(1, field_size[1])
    painter.save()
    painter.setFont(page.small_bold)
    for number, cell in enumerate(called_blasts(cells)[:MAX_INSETS], start=1):
        x, y, w, h = cell.bbox
        box = QRectF(target.x() + x * sx, target.y() + y * sy, w * sx, h * sy)
        painter.setPen(QPen(BLAST_RED, 0.35 * page.mm))
        painter.drawRect(box)
        painter.drawText(QRectF(box.x(), box.y() - 3.5 * page.mm, 6 * page.mm, 3.5 * page.mm),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, str(number))
    painter.restore()


def draw_insets(painter: QPainter, image: QImage, field_size: tuple[int, int], x: float,
                y: float, width: float, cells: Sequence[CellRecord], page,
                washed: bool = False) -> None:
    """One enlarged crop per called blast (up to ``MAX_INSETS``) in a row from (x, y); the
    picture may be a reduced copy of the field (``field_size``)."""
    scale = image.width() / max(1, field_size[0])
    blasts = called_blasts(cells)
    side, gap = INSET_MM * page.mm, 2 * page.mm
    columns = max(1, min(MAX_INSETS, int((width + gap) // (side + gap))))
    painter.save()
    painter.setFont(page.small)
    for index, cell in enumerate(blasts[:columns]):
        left = x + index * (side + gap)
        target = QRectF(left, y, side, side)
        painter.drawImage(target, image.copy(*_square(cell.bbox, scale, image)))
        if washed:  # a dismissed field: its insets greyed like the field
            painter.fillRect(target, QColor(255, 255, 255, 150))
        painter.setPen(QPen(BLAST_RED, 0.35 * page.mm))
        painter.drawRect(target)
        painter.setPen(QColor(40, 40, 40))
        mark = {"accept": " ✔"}.get(cell.decision or "", "")
        painter.drawText(QRectF(left, y + side + 0.5 * page.mm, side, CAPTION_MM * page.mm),
                         Qt.AlignmentFlag.AlignCenter,
                         f"{index + 1} · P(blast) {cell.p_blast:.2f}{mark}")
    if len(blasts) > columns:
        more = QRectF(x + columns * (side + gap), y, width, side)
        painter.drawText(more, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         f"+{len(blasts) - columns} more")
    painter.restore()


def _square(
    bbox: tuple[int, int, int, int], scale: float, image: QImage
) -> tuple[int, int, int, int]:
    """A square around the cell (a quarter of its size as margin) in the picture's pixels."""
    x, y, w, h = (round(v * scale) for v in bbox)
    side = int(max(w, h) * 1.5)
    cx, cy = x + w // 2, y + h // 2
    left = min(max(0, cx - side // 2), max(0, image.width() - side))
    top = min(max(0, cy - side // 2), max(0, image.height() - side))
    return left, top, min(side, image.width()), min(side, image.height())
