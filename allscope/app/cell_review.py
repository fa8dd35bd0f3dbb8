"""The cell review, decided without Qt: digit keys per cell type, cells grouped by their current
type with counts, and the slide tally in words (counts, blasts with a Wilson interval, progress
toward the target count)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from allscope.core.cells.tally import Tally

DISMISSED = "dismissed"


class ReviewedCell(Protocol):
    """What the review needs of a saved cell (``allscope.core.store.cells.CellRecord``)."""

    @property
    def id(self) -> int: ...
    @property
    def current_label(self) -> str: ...
    @property
    def decision(self) -> str | None: ...
    @property
    def p_blast(self) -> float: ...


def digit_keys(classes: Sequence[str]) -> dict[str, str]:
    """Digit key -> cell type: "1" is the package's first class, up to "9"."""
    return {str(number): name for number, name in enumerate(classes[:9], 1)}


def key_sheet(classes: Sequence[str]) -> str:
    keys = " · ".join(f"{key} {name}" for key, name in digit_keys(classes).items())
    return f"{keys} · A accept · D dismiss (not a white cell)"


def grouped(
    cells: Sequence[ReviewedCell], classes: Sequence[str]
) -> list[tuple[str, list[ReviewedCell]]]:
    """(type, its cells by falling P(blast)) in the package's class order, dismissed last."""
    groups: dict[str, list[ReviewedCell]] = {name: [] for name in (*classes, DISMISSED)}
    for cell in cells:
        key = DISMISSED if cell.decision == "dismiss" else cell.current_label
        groups.setdefault(key, []).append(cell)
    return [
        (name, sorted(members, key=lambda c: -c.p_blast))
        for name, members in groups.items() if members
    ]


def tally_lines(tally: Tally) -> list[tuple[str, str]]:
    """The tally in words: white cells, blasts with their 95% interval, count per type."""
    rows = [("White cells counted", f"{tally.wbc} of {tally.target}")]
    interval = tally.ci95
    if tally.wbc and interval is not None:
        rows.append(("Blasts", f"{tally.blasts} = {100 * tally.blasts / tally.wbc:.1f}% "
                               f"(95% interval {100 * interval[0]:.1f}–{100 * interval[1]:.1f}%)"))
    else:
        rows.append(("Blasts", "no white cell counted yet"))
    by_count = sorted(tally.per_class.items(), key=lambda kv: -kv[1])
    rows += [(name, str(count)) for name, count in by_count]
    return rows


def progress_text(tally: Tally) -> str:
    if tally.complete:
        return f"Count complete: {tally.wbc} white cells examined"
    return f"{tally.wbc} of {tally.target} white cells"
