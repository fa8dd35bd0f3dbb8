"""What the flag gallery lists and in which order (no Qt).

- One entry per slide location: a flag whose field is nearly identical to an earlier flag's
  (the stage rested, the dwell released and re-flagged) joins that entry as a repeat; every
  flag is still saved, the entry says how many more were raised there.
- Each label names the verdict, the time and the source. With cells (``cell_words``): the
  blasts and the highest P(blast), the field model's subtype only as "likely <subtype>";
  without: the field model's class and P(ALL).
- Orders: unreviewed first, most suspicious first (P(blast) with cells, else P(ALL)), or
  capture order; filters by class (with cells: blasts or none) or hand captures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

import cv2
import numpy as np

from allscope.app.cell_words import CellSummary, strength, subtype_text, verdict_class
from allscope.app.cell_words import verdict_text as cells_verdict
from allscope.core.results import FieldResult

SAME_PLACE_CORRELATION = 0.97  # fingerprints this alike show the same slide location
RECENT_GROUPS = 64
ORDERS = {
    "unreviewed": "Unreviewed first",
    "probability": "Most suspicious first",
    "time": "Capture order",
}
ALL_CLASSES = "All classes"
HAND = "Hand captures"


def fingerprint(thumbnail_bgr: np.ndarray) -> np.ndarray:
    """A 24×24 grey, zero-mean, unit-length copy of a field: cheap to compare."""
    grey = (
        cv2.cvtColor(thumbnail_bgr, cv2.COLOR_BGR2GRAY)
        if thumbnail_bgr.ndim == 3
        else thumbnail_bgr
    )
    small = cv2.resize(grey, (24, 24), interpolation=cv2.INTER_AREA).astype(np.float32).ravel()
    small -= small.mean()
    norm = float(np.linalg.norm(small))
    return small / norm if norm > 1e-6 else small


class LocationGroups:
    """Assigns each flagged field to a location entry (the first flag seen there)."""

    def __init__(self, threshold: float = SAME_PLACE_CORRELATION) -> None:
        self.threshold = threshold
        self._groups: list[tuple[int, np.ndarray]] = []  # (entry id, fingerprint), newest last

    def place(self, entry_id: int, thumbnail_bgr: np.ndarray) -> int:
        """The id of the entry this field belongs to (its own id when the place is new)."""
        print_ = fingerprint(thumbnail_bgr)
        for known_id, known in reversed(self._groups[-RECENT_GROUPS:]):
            if known.shape == print_.shape and float(known @ print_) >= self.threshold:
                return known_id
        self._groups.append((entry_id, print_))
        return entry_id

    def clear(self) -> None:
        self._groups.clear()


class Listed(Protocol):
    """What the gallery lists (``allscope.app.field_store.GalleryRecord``)."""

    @property
    def kind(self) -> str: ...
    @property
    def result(self) -> FieldResult: ...
    @property
    def decision(self) -> str | None: ...
    @property
    def captured_at(self) -> float: ...
    @property
    def cells(self) -> CellSummary | None: ...


def caption(record: Listed, repeats: int = 0) -> str:
    """Label under a thumbnail: review mark, kind, verdict, time, source, repeats."""
    result, cells = record.result, record.cells
    mark = {"accept": "✔ accepted", "dismiss": "✖ dismissed"}.get(
        record.decision or "", "● unreviewed"
    )
    kind = "✋ hand" if record.kind == "manual" else "⚑ flag"
    likely = ""
    if cells is not None:  # "⚑ 2 blasts · P(blast) 0.93": the cells are the verdict
        kind = "✋" if record.kind == "manual" else "⚑"
        verdict = cells_verdict(cells)
        likely = subtype_text(cells, result.subtype)
    elif result.p_all is not None and result.label:
        verdict = f"{result.label} · P(ALL) {result.p_all:.2f}"
    else:
        verdict = "not judged: " + ("; ".join(result.reasons) or "no model")
    when = (
        datetime.fromtimestamp(record.captured_at).strftime("%H:%M:%S")
        if record.captured_at
        else "—"
    )
    source = (result.source or "").split(" (")[0][:18]
    more = f"\n+{repeats} more here" if repeats else ""
    where = f"{when} · {source}"
    head = f"{kind} {verdict}" if cells is not None else f"{kind} · {verdict}"
    likely = f"\n{likely}" if likely else ""
    return f"{head}{likely}\n{where}\n{mark}{more}"


L = TypeVar("L", bound=Listed)


def ordered(
    records: Sequence[L], order: str = "unreviewed", class_filter: str = ALL_CLASSES
) -> list[L]:
    """The records to list, filtered and sorted as chosen (stable: capture order breaks ties)."""
    chosen = [r for r in records if _keep(r, class_filter)]
    if order == "probability":
        return sorted(chosen, key=lambda r: -_strength(r, -1.0))
    if order == "unreviewed":
        return sorted(chosen, key=lambda r: (r.decision is not None, -_strength(r, 0.0)))
    return chosen


def _strength(record: Listed, missing: float) -> float:
    value = strength(record.result, record.cells)
    return missing if value is None else value


def _keep(record: Listed, class_filter: str) -> bool:
    if class_filter == ALL_CLASSES:
        return True
    if class_filter == HAND:
        return record.kind == "manual"
    return bool(verdict_class(record.result, record.cells) == class_filter)
