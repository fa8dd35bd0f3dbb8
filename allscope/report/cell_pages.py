"""The report's cell gallery: one grid per cell type with the reviewed label of each cell, as a
person left it (reclassified cells under their new type, dismissed cells left out and counted).

Crops come from the stored lossless field images; a type shows at most ``PER_TYPE`` cells
(the most blast-like first), the rest are counted and listed in the CSV/JSON export.
"""

from __future__ import annotations

from collections import defaultdict

import cv2
import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from allscope.core.store import SessionStore
from allscope.report import layout as lay

PER_TYPE = 24
COLUMNS = 8


def cell_blocks(page, store: SessionStore, session_id: int) -> list[lay.Block]:
    """A heading and one grid per type; nothing when the session has no saved cells."""
    cells = store.cells(session_id=session_id)
    if not cells:
        return []
    mm = page.mm
    kept = [c for c in cells if c.decision != "dismiss"]
    by_type: dict[str, list] = defaultdict(list)
    for cell in kept:
        by_type[cell.current_label].append(cell)
    blocks = [lay.PageBreak(), *page.heading(f"Cells by type ({len(kept)} saved cells)")]
    note = (
        f"Each cell under its reviewed type; {len(cells) - len(kept)} dismissed cell(s) are left "
        "out. ✔ accepted, ↻ moved to this type by a person. Up to "
        f"{PER_TYPE} cells per type are shown, the most blast-like first."
    )
    blocks.append(page.text(note, page.small, 2 * mm))
    images: dict[int, np.ndarray | None] = {}
    for name in sorted(by_type, key=lambda n: (n != "blast", n)):
        members = sorted(by_type[name], key=lambda c: -c.p_blast)
        blocks += page.heading(f"{name.capitalize()}: {len(members)}")
        for start in range(0, min(len(members), PER_TYPE), COLUMNS):
            row = members[start : start + COLUMNS]
            blocks.append(_row(page, row, store, images))
    return blocks


def _row(page, row: list, store: SessionStore, images: dict) -> lay.Block:
    mm = page.mm
    side = (page.content - (COLUMNS - 1) * 2 * mm) / COLUMNS
    caption_h = 7 * mm

    def draw(painter: QPainter, x: float, y: float) -> None:
        for index, cell in enumerate(row):
            left = x + index * (side + 2 * mm)
            crop = _crop(cell, store, images)
            if crop is not None:
                painter.drawImage(QRectF(left, y, side, side), crop)
            mark = {"accept": " ✔"}.get(cell.decision or "", "")
            moved = " ↻" if cell.current_label != cell.label else ""
            text = f"no. {cell.id}{mark}{moved}\nP(blast) {cell.p_blast:.2f}"
            lay.TextBox(text, page.small, side, page.device, QColor(40, 40, 40)).draw(
                painter, left, y + side + 0.5 * mm
            )

    return lay.DrawBlock(side + caption_h + 2 * mm, draw)


def _crop(cell, store: SessionStore, images: dict) -> QImage | None:
    if cell.field_id not in images:
        images[cell.field_id] = cv2.imread(str(store.get_field(cell.field_id).image_path))
    image = images[cell.field_id]
    if image is None:
        return None
    x, y, w, h = cell.bbox
    pad = max(w, h) // 3
    height, width = image.shape[:2]
    crop = image[
        max(0, y - pad) : min(height, y + h + pad), max(0, x - pad) : min(width, x + w + pad)
    ]
    if crop.size == 0:
        return None
    rgb = np.ascontiguousarray(cv2.cvtColor(cv2.resize(crop, (160, 160)), cv2.COLOR_BGR2RGB))
    return QImage(rgb.data, 160, 160, 480, QImage.Format.Format_RGB888).copy()
