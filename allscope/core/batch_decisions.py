"""The fields of one batch run waiting for their halves, decided as soon as both are in.

In ``allscope analyze`` a field's two halves arrive on other threads and in either order:
the field model's prediction (``Classifier.submit``) and its cells (``cells.pool.CellPool``).
``Decisions`` holds each field's result until the halves it waits for are in, then writes
its decision (``field_analysis``) into the run's result slots; a field that fails on the
way becomes that field's error row and never escapes into an inference thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from allscope.core.cells.field import FieldCells
from allscope.core.classifier import Classifier, Prediction
from allscope.core.field_analysis import classified_result, decide
from allscope.core.flags import FlagPolicy, evidence
from allscope.core.frames import Frame
from allscope.core.ood import OodDetector
from allscope.core.results import FieldResult

Error = Callable[[FieldResult, str], None]  # records a field's error row
CellSink = Callable[[Frame, FieldCells], None]


@dataclass
class _Waiting:
    result: FieldResult
    left: int  # halves still to come
    prediction: Prediction | None = None
    cells: FieldCells | None = None
    error: str | None = None  # the field failed after its analysis (its cells' sink)


class Decisions:
    """Joins each field's prediction and cells; ``slots`` and ``frames`` are the run's, shared
    under ``lock`` (a field's slot becomes None when it turns into an error row)."""

    def __init__(self, slots: list[FieldResult | None], frames: dict[int, Any],
                 lock: threading.Lock, policy: FlagPolicy, error: Error,
                 classifier: Classifier | None, ood: OodDetector | None,
                 cell_sink: CellSink | None) -> None:
        self.slots, self.frames, self.lock, self.policy = slots, frames, lock, policy
        self.error, self.classifier, self.ood, self.cell_sink = error, classifier, ood, cell_sink
        self._waiting: dict[int, _Waiting] = {}
        self._sink_lock = threading.Lock()

    def expect(self, index: int, result: FieldResult, halves: int) -> None:
        with self.lock:
            self._waiting[index] = _Waiting(result, halves)

    def on_prediction(self, prediction: Prediction, index: int) -> None:
        """The field model's callback (``Classifier.submit`` with ``index`` as its data)."""
        self._arrived(index, prediction=prediction)

    def on_cells(self, index: int, frame: Frame, cells: FieldCells) -> None:
        """The field's cells, judged: handed to the cell sink (crops), then joined."""
        error = None
        try:
            if self.cell_sink is not None:
                with self._sink_lock:
                    self.cell_sink(frame, cells)
        except Exception as exc:  # e.g. a crop that cannot be written: that field's error
            error = f"cannot be analysed ({type(exc).__name__}: {exc})"
        self._arrived(index, cells=cells, error=error)

    def _arrived(self, index: int, prediction: Prediction | None = None,
                 cells: FieldCells | None = None, error: str | None = None) -> None:
        with self.lock:
            waiting = self._waiting[index]
            waiting.prediction = prediction or waiting.prediction
            waiting.cells = cells or waiting.cells
            waiting.error = error or waiting.error
            waiting.left -= 1
            if waiting.left:
                return
            del self._waiting[index]
        if waiting.error is not None:
            self._failed(index, waiting.result, waiting.error)
        else:
            self._conclude(index, waiting)

    def _failed(self, index: int, result: FieldResult, message: str) -> None:
        with self.lock:
            self.slots[index] = None
            self.error(result, message)

    def _conclude(self, index: int, waiting: _Waiting) -> None:
        """The field's decision, and whether its frame is still worth keeping for a flag."""
        result, prediction = waiting.result, waiting.prediction
        try:
            if prediction is None:
                classified = decide(result, None, waiting.cells)
            else:
                assert self.classifier is not None  # only its requests give a prediction
                classified = classified_result(result, self.classifier, prediction, 0.0,
                                               self.ood, waiting.cells)
        except Exception as exc:  # an error stays in its field, never escapes this thread
            self._failed(index, result, f"classification failed ({type(exc).__name__}: {exc})")
            return
        with self.lock:
            self.slots[index] = classified
            found = evidence(classified, self.policy)
            if found is None or found[0] < found[1]:
                self.frames.pop(index, None)  # only fields that can be flagged are kept
            elif index in self.frames:  # kept with its prediction: a flag's heat map reuses it
                self.frames[index] = (*self.frames[index][:2], prediction)
