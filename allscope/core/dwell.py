"""Dwells: the stretches during which the stage stands still on one field.

Flags are raised once per dwell, so a dwell must not end because one frame looked moved
(a vibration, a flicker of the lamp) and must not begin while the view is still settling.
``DwellTracker`` debounces the per-frame motion verdict: a dwell begins after ``settle``
consecutive still frames and ends after ``leave`` consecutive moving ones. Each dwell gets
a number, so results, flags and the report can say which field they belong to.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DwellState:
    """Where the stream stands after one frame."""

    dwell: int | None  # number of the current dwell (1, 2, ...), None between dwells
    started: bool = False  # this frame began the dwell
    ended: bool = False  # this frame ended the previous dwell

    @property
    def still(self) -> bool:
        return self.dwell is not None


class DwellTracker:
    """Turns per-frame ``moving`` verdicts into numbered dwells; one per stream, not thread-safe."""

    def __init__(self, settle: int = 3, leave: int = 2) -> None:
        if settle < 1 or leave < 1:
            raise ValueError(f"settle and leave must be at least 1 frame, got {settle} and {leave}")
        self.settle, self.leave = settle, leave
        self.count = 0
        self._current: int | None = None
        self._run = 0  # consecutive frames contradicting the current state

    def reset(self) -> None:
        """Forget the current dwell (e.g. the source changed); numbering continues."""
        self._current, self._run = None, 0

    def update(self, moving: bool) -> DwellState:
        if self._current is None:
            self._run = 0 if moving else self._run + 1
            if self._run >= self.settle:
                self.count += 1
                self._current, self._run = self.count, 0
                return DwellState(self._current, started=True)
            return DwellState(None)
        self._run = self._run + 1 if moving else 0
        if self._run >= self.leave:
            self._current, self._run = None, 0
            return DwellState(None, ended=True)
        return DwellState(self._current)
