"""How a field judged by cells is put into words, in one place (no Qt).

With a cell model in force a field is suspicious because of its cells, so the live panel,
the new-flag alert and the gallery labels speak of cells: how many were judged, how many
were called blasts, and the highest P(blast). The field model's class is then only the
subtype reader: shown as "likely <subtype>" for a suspicious field and never as the verdict
("Benign" beside a blast would contradict it). Without a cell model the old field wording
(class and P(ALL)) stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from allscope.core.results import FieldResult


@dataclass(frozen=True)
class CellSummary:
    """The cells of one field as the GUI words them."""

    cells: int
    blasts: int
    p_blast: float  # the field's highest P(blast) (0 without cells)
    threshold: float  # the P(blast) threshold in force when the cells were judged
    judged: bool = True
    reason: str = ""  # why the cells could not be judged

    @property
    def suspicious(self) -> bool:
        return self.judged and self.blasts > 0


class SavedCell(Protocol):
    """What a saved cell offers (``allscope.core.store.cells.CellRecord``)."""

    @property
    def p_blast(self) -> float: ...
    @property
    def is_blast(self) -> bool: ...
    @property
    def threshold(self) -> float: ...


def cell_summary(result: FieldResult) -> CellSummary | None:
    """The summary of a live result's cells; None when no cell model ran on it."""
    cells = result.cells
    if cells is None:
        return None
    return CellSummary(len(cells.calls), cells.blasts, cells.p_blast_max, cells.threshold,
                       cells.judged, cells.reason or "")


def saved_summary(cells: Iterable[SavedCell], threshold: float = 0.5) -> CellSummary | None:
    """The summary of a saved field's cells (as called by the model); None when it has none."""
    saved = list(cells)
    if not saved:
        return None
    return CellSummary(len(saved), sum(c.is_blast for c in saved), max(c.p_blast for c in saved),
                       saved[0].threshold if saved else threshold)


def blasts_text(count: int) -> str:
    return "no blast" if count == 0 else f"{count} blast" + ("s" if count > 1 else "")


def cells_text(count: int) -> str:
    return f"{count} white cell" + ("" if count == 1 else "s")


def verdict_text(summary: CellSummary) -> str:
    """"2 blasts · P(blast) 0.93" (judged), or why the cells were not judged."""
    if not summary.judged:
        return "needs a look: " + (summary.reason or "cells not judged")
    return f"{blasts_text(summary.blasts)} · P(blast) {summary.p_blast:.2f}"


def subtype_text(summary: CellSummary, subtype: str | None) -> str:
    """"likely Pre-B" for a suspicious field whose subtype the field model read, else ""."""
    return f"likely {subtype}" if summary.suspicious and subtype else ""


def alert_words(summary: CellSummary, subtype: str | None) -> str:
    """The new-flag alert's words: "2 blasts · P(blast) 0.93 · likely Pre-B"."""
    likely = subtype_text(summary, subtype)
    return verdict_text(summary) + (f" · {likely}" if likely else "")


def strength(result: FieldResult, summary: CellSummary | None) -> float | None:
    """What the gallery sorts by: the highest P(blast) with cells, else P(ALL)."""
    if summary is not None and summary.judged:
        return summary.p_blast
    return result.p_all


def verdict_class(result: FieldResult, summary: CellSummary | None) -> str | None:
    """The class the gallery filters by: with cells "Blasts" or "No blast" (the field model's
    class would contradict the cells), else the field model's class."""
    if summary is None:
        return result.label
    if not summary.judged:
        return "Needs a look"
    return "Blasts" if summary.suspicious else "No blast"
