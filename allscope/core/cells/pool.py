"""The cells of many fields judged together, for ``allscope analyze``.

Live, a field's cells run as one batch as soon as they are cut (``field.judge_cells``). In a
batch run nothing waits for one field, so ``CellPool`` pools the crops of consecutive fields
into fixed batches of ``BATCH`` crops and runs them on OpenVINO's ``AsyncInferQueue`` in
throughput mode (several streams, each batch on its own core), while the caller goes on
decoding and masking the next fields. A field's crops may span two batches; when its last
crop is judged its ``FieldCells`` go to the callback given with it. The outputs equal those
of ``judge_cells``: each crop's outputs depend on that crop only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import openvino as ov

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import FieldCells, FieldCrops, judged, not_judged

BATCH = 16  # crops per inference: the fastest per cell of 16, 32, 64 on the workstation CPU
Done = Callable[[FieldCells], None]
Segment = tuple["_Field", int, int, int]  # a field, its first crop here, crops, first slot


@dataclass
class _Field:
    cut: FieldCrops
    done: Done
    outputs: list[np.ndarray]  # per model output, one row per crop, filled as batches finish
    left: int  # crops not yet judged
    started: float = field(default_factory=time.perf_counter)
    error: Exception | None = None


class CellPool:
    """Pools fields' crops into fixed batches judged asynchronously (see the module doc).

    ``submit`` and ``flush`` are called from one thread; callbacks run on OpenVINO's threads,
    one at a time. ``wait`` returns when every submitted field has had its callback.
    """

    def __init__(self, classifier: CellClassifier, batch: int = BATCH) -> None:
        self.classifier, self.batch = classifier, batch
        self._queue = ov.AsyncInferQueue(classifier.throughput_model(batch), 0)
        self._queue.set_callback(self._finished)
        self._waiting: list[tuple[_Field, int]] = []  # fields with crops not yet sent, first crop
        self._queued = 0  # crops waiting for the next batch
        self._lock = threading.Lock()

    def submit(self, cut: FieldCrops, done: Done) -> None:
        """Judge ``cut``'s cells; ``done`` gets the field's cells (now if it has none)."""
        count = len(cut.crops)
        if count == 0:
            done(judged(self.classifier, cut, np.zeros((0, 1)), np.zeros((0, 1)), 0.0))
            return
        outputs = [np.empty((count, max(self.classifier.output_width(i), 1)), np.float32)
                   for i in self.classifier.outputs]
        self._waiting.append((_Field(cut, done, outputs, count), 0))
        self._queued += count
        while self._queued >= self.batch:
            self._launch()

    def flush(self) -> None:
        """Send the crops still waiting as one last (padded) batch."""
        if self._queued:
            self._launch()

    def wait(self) -> None:
        self._queue.wait_all()

    def _launch(self) -> None:
        """Start one batch of the next ``batch`` waiting crops (padded with blank crops)."""
        crops = np.zeros((self.batch, *self._waiting[0][0].cut.crops.shape[1:]), np.uint8)
        segments: list[Segment] = []
        slot = 0
        while self._waiting and slot < self.batch:
            entry, first = self._waiting[0]
            count = min(len(entry.cut.crops) - first, self.batch - slot)
            crops[slot : slot + count] = entry.cut.crops[first : first + count]
            segments.append((entry, first, count, slot))
            slot += count
            if first + count == len(entry.cut.crops):
                self._waiting.pop(0)
            else:
                self._waiting[0] = (entry, first + count)
        self._queued -= slot
        self._queue.start_async({0: crops}, segments)

    def _finished(self, request: ov.InferRequest, segments: list[Segment]) -> None:
        """Copy a finished batch's rows to their fields; conclude the fields now complete."""
        try:
            data = [np.array(request.get_output_tensor(i).data, np.float32).reshape(self.batch, -1)
                    for i in self.classifier.outputs]
        except RuntimeError as exc:  # a failed batch: its fields need a look
            data = None
            for entry, *_ in segments:
                entry.error = exc
        complete = []
        with self._lock:
            for entry, first, count, slot in segments:
                if data is not None:
                    for out, rows in zip(entry.outputs, data, strict=True):
                        out[first : first + count] = rows[slot : slot + count]
                entry.left -= count
                if entry.left == 0:
                    complete.append(entry)
        for entry in complete:
            entry.done(self._cells(entry))

    def _cells(self, entry: _Field) -> FieldCells:
        if entry.error is not None:
            return not_judged(self.classifier, entry.error)
        scores, features = entry.outputs
        classify_ms = (time.perf_counter() - entry.started) * 1e3  # queued and judged
        return judged(self.classifier, entry.cut, self.classifier.probabilities(scores),
                      features, classify_ms)
