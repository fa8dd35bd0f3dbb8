"""Saved cells and judged cells built directly from the store's and the classifier's own
record types, for the Qt-free review and wording tests."""

from __future__ import annotations

import numpy as np

from allscope.core.cells.classifier import CellCall
from allscope.core.cells.detect import Cell
from allscope.core.cells.field import FieldCells
from allscope.core.store.cells import CellRecord


def saved_cell(cell_id: int, p_blast: float, *, label: str = "blast", current: str | None = None,
               decision: str | None = None, threshold: float = 0.5,
               bbox: tuple[int, int, int, int] = (10, 10, 20, 20)) -> CellRecord:
    """A saved cell as ``SessionStore.cells`` returns it (called blast at ``threshold``)."""
    x, y, w, h = bbox
    return CellRecord(
        id=cell_id, field_id=1, session_id=1, cell_index=cell_id, bbox=bbox,
        contour=((x, y), (x + w, y), (x + w, y + h), (x, y + h)), area_px=w * h,
        diameter_px=float(w), diameter_um=None, touches_border=False, label=label,
        probabilities={"blast": p_blast, "lymphocyte": 1 - p_blast}, p_blast=p_blast,
        is_blast=p_blast >= threshold, threshold=threshold, model="tiny 0", slide_xy=None,
        track_id=None, current_label=current or label, decision=decision,
    )


def call(index: int, p_blast: float, threshold: float = 0.5) -> CellCall:
    """The classifier's verdict on one square cell at (20 * index, 10)."""
    x = 20 * index
    contour = np.array([[x, 10], [x + 12, 10], [x + 12, 22], [x, 22]], np.int32)
    cell = Cell(index, (x, 10, 12, 12), contour, 144, (x + 6.0, 16.0), 13.5, False)
    probabilities = {"blast": p_blast, "lymphocyte": 0.7 * (1 - p_blast),
                     "neutrophil": 0.3 * (1 - p_blast)}
    label = max(probabilities, key=lambda k: probabilities[k])
    return CellCall(cell, probabilities, label, p_blast, p_blast >= threshold,
                    np.zeros(4, np.float32))


def field_cells(*p_blasts: float, threshold: float = 0.5, judged: bool = True,
                reason: str | None = None) -> FieldCells:
    return FieldCells(tuple(call(i, p, threshold) for i, p in enumerate(p_blasts)), threshold,
                      "tiny 0", judged, reason)
