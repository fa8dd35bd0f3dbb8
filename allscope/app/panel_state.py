"""What the live classification panel shows, decided in one place (no Qt).

One explicit state per situation, so that the panel can never contradict itself:

- waiting / no cells / no model / classifying: words only;
- not assessable: the reason, no probabilities, no alarm colours;
- outside the model's experience: "needs a look", no probabilities (the model abstained);
- judged: the white cells and the probabilities, red only at or above the threshold. With a
  cell model in force the field is judged by its cells: the white cells and blasts in view and
  the highest P(blast) against the cell threshold; the field model's class appears only as
  "likely <subtype>" of a suspicious field (``cell_words``), never as the verdict;
- a newly raised flag adds an alert for a few seconds, for that flag only: a flag does
  not stay lit while the stage rests on a suspicious field, and a repeat of the same flag
  does not prolong it.
"""

from __future__ import annotations

from dataclasses import dataclass

from allscope.app.cell_words import (
    CellSummary,
    alert_words,
    blasts_text,
    cell_summary,
    cells_text,
)
from allscope.core.ood import OUTSIDE
from allscope.core.results import FieldResult, Flag

ALERT_HOLD_S = 4.0
NEEDS_A_LOOK = "Needs a look"
OUTSIDE_DETAIL = (
    "Outside the model's experience: it does not judge this field. "
    "Look at it yourself; it is never flagged automatically."
)


@dataclass(frozen=True)
class PanelState:
    """Everything the panel draws; ``probabilities``/``p_all`` None means "show none"."""

    kind: (
        str  # waiting | no_cells | no_model | not_assessable | classifying | needs_a_look | judged
    )
    headline: str
    detail: str = ""
    wbc: int | None = None
    probabilities: dict[str, float] | None = None
    p_all: float | None = None
    tone: str = "neutral"  # neutral | calm | suspicious | attention
    alert: str | None = None
    cells: CellSummary | None = None  # judged by cells: the field's cells (then no P(ALL))
    by_cells: bool = False  # a cell model is in force: cells judge, never the field's class

    @property
    def bar(self) -> tuple[str, float | None, float | None]:
        """What the threshold bar shows: (name, value, threshold); threshold None: the
        panel's flag threshold."""
        if self.cells is not None:
            value = self.cells.p_blast if self.kind == "judged" else None
            return "P(blast)", value, self.cells.threshold
        if self.by_cells:
            return "P(blast)", None, None
        return "P(ALL)", self.p_all, None

    @property
    def alarm(self) -> bool:
        """Alarm colours are used only for a judged suspicious field or a fresh flag."""
        return self.tone == "suspicious" or self.alert is not None


class FlagAlert:
    """The alert of the latest flag, shown for ``hold_s`` after it was raised, once per flag."""

    def __init__(self, hold_s: float = ALERT_HOLD_S) -> None:
        self.hold_s = hold_s
        self._key: object = None
        self._text: str | None = None
        self._until = 0.0

    def raise_flag(self, key: object, text: str, now: float) -> None:
        if key == self._key:
            return  # the same flag again: no second alert, no longer one
        self._key, self._text, self._until = key, text, now + self.hold_s

    def current(self, now: float) -> str | None:
        return self._text if now < self._until else None


def alert_text(label: str, p_all: float, source: str = "") -> str:
    where = f" · {source}" if source else ""
    return f"⚑ New flag: {label}, P(ALL) {p_all:.2f}{where} — saved to the gallery"


def flag_alert_text(flag: Flag) -> str:
    """The alert of a new flag: in cells when cells raised it, else the field model's words."""
    summary = cell_summary(flag.result)
    if summary is None or not summary.judged:
        return alert_text(flag.label, flag.p_all)
    return f"⚑ New flag: {alert_words(summary, flag.result.subtype)} — saved to the gallery"


def panel_state(
    result: FieldResult | None,
    classified: FieldResult | None,
    threshold: float,
    *,
    has_model: bool = True,
    benign_class: str = "Benign",
    alert: str | None = None,
    by_cells: bool = False,
) -> PanelState:
    """The one state to show for the current field and its latest classification.

    ``by_cells``: a cell model is in force, so no state shows the field model's classes or
    P(ALL), also while a field waits for its cells (not assessable, classifying)."""
    if by_cells and classified is not None and classified.cells is None:
        classified = None  # a field-only verdict (e.g. before the cells came in) is not shown
    state = _base_state(result, classified, threshold, has_model or by_cells, benign_class)
    changes = {"alert": alert, "by_cells": by_cells}
    if by_cells and state.cells is None:
        changes.update(probabilities=None, p_all=None)
    return PanelState(**{**state.__dict__, **changes})


def _base_state(
    result: FieldResult | None,
    classified: FieldResult | None,
    threshold: float,
    has_model: bool,
    benign_class: str,
) -> PanelState:
    if result is None:
        return PanelState("waiting", "Waiting for frames")
    wbc = result.wbc_count
    if wbc == 0:
        return PanelState(
            "no_cells", "No white cells in view", "Move to a field with white cells.", wbc=0
        )
    if OUTSIDE in result.reasons or (classified is not None and OUTSIDE in classified.reasons):
        return PanelState("needs_a_look", NEEDS_A_LOOK, OUTSIDE_DETAIL, wbc=wbc, tone="attention")
    if not result.assessable:
        why = "; ".join(result.reasons) or "the field cannot be judged"
        return PanelState("not_assessable", "Not assessable", f"Why: {why}.", wbc=wbc)
    if classified is not None and classified.cells is not None:
        return _cells_state(classified, wbc)
    if not has_model:
        return PanelState(
            "no_model", "Not classified", "No model is loaded: cells are outlined only.", wbc=wbc
        )
    if classified is None or classified.p_all is None or classified.probabilities is None:
        return PanelState("classifying", "Classifying…", wbc=wbc)
    probabilities = classified.probability_map() or {}
    if classified.p_all < threshold:
        return PanelState(
            "judged",
            "Benign",
            f"P(ALL) below the threshold {threshold:.2f}.",
            wbc,
            probabilities,
            classified.p_all,
            "calm",
        )
    candidates = {k: v for k, v in probabilities.items() if k != benign_class}
    subtype = max(candidates, key=lambda name: candidates[name]) if candidates else None
    headline = f"Suspicious for ALL → most likely {subtype}" if subtype else "Suspicious for ALL"
    return PanelState(
        "judged",
        headline,
        "Hold the stage still to flag and save this field.",
        wbc,
        probabilities,
        classified.p_all,
        "suspicious",
    )


def _cells_state(classified: FieldResult, wbc: int) -> PanelState:
    """A field judged by its cells: the cells and blasts, the highest P(blast), and for a
    suspicious field the field model's subtype as "likely"; no field-class probabilities."""
    summary = cell_summary(classified)
    assert summary is not None  # the caller checked that cells were judged on this field
    if not summary.judged:
        detail = f"Why: {summary.reason or 'the cells could not be judged'}. Look at it yourself."
        return PanelState("needs_a_look", NEEDS_A_LOOK, detail, wbc=wbc, tone="attention",
                          cells=summary)
    counted = f"{cells_text(summary.cells)} judged, {blasts_text(summary.blasts)}"
    highest = f"highest P(blast) {summary.p_blast:.2f} (blast at {summary.threshold:.2f})"
    if not summary.suspicious:
        return PanelState("judged", "No blast in view", f"{counted}; {highest}.", summary.cells,
                          tone="calm", cells=summary)
    headline = f"Suspicious: {blasts_text(summary.blasts)}"
    if classified.subtype:
        headline += f" → likely {classified.subtype}"
    detail = f"{counted}; {highest}. Hold the stage still to flag and save this field."
    return PanelState("judged", headline, detail, summary.cells, tone="suspicious",
                      cells=summary)
