"""What the field viewer draws over a field's cells (no Qt): each cell's outline, its label
(the reviewed type when a person changed it) and P(blast), blasts in red; and which cell the
zoomed inset shows first (the most blast-like)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from allscope.core.cells.field import FieldCells
from allscope.core.cells.tally import called_label


@dataclass(frozen=True)
class CellOverlay:
    bbox: tuple[int, int, int, int]
    contour: tuple[tuple[int, int], ...]
    label: str
    p_blast: float
    blast: bool

    @property
    def caption(self) -> str:
        return f"{self.label} {self.p_blast:.2f}"


def overlays(saved: Sequence[Any] | None, cells: FieldCells | None) -> list[CellOverlay]:
    """From saved cell records (their current, reviewed label; dismissed ones left out) when
    there are any, else from the field's judged cells as the pipeline left them."""
    if saved:
        return [
            CellOverlay(tuple(c.bbox), tuple(tuple(p) for p in c.contour), c.current_label,
                        c.p_blast, c.current_label == "blast")
            for c in saved if c.decision != "dismiss"
        ]
    if cells is None or not cells.judged:
        return []
    return [
        CellOverlay(call.cell.bbox, tuple((int(x), int(y)) for x, y in call.cell.contour),
                    called_label(call.probabilities, call.is_blast), call.p_blast, call.is_blast)
        for call in cells.calls
    ]


def inset_first(cells: Sequence[CellOverlay]) -> CellOverlay | None:
    return max(cells, key=lambda c: c.p_blast) if cells else None
