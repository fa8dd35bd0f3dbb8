"""The capture writer: stores flagged and hand-captured fields off the GUI thread.

Flag callbacks arrive on a pipeline worker thread and must return at once; saving a
full-resolution field takes tens of milliseconds. ``FieldWriter`` takes requests into a
bounded queue, stores each on its own thread, and leaves the acknowledged records in a
bounded outbox that the GUI timer drains. A full queue refuses the request (``submit``
returns False) so that the caller can tell the user; it never blocks the pipeline. Each
request keeps the store current when it was taken: a field flagged just before a session
switch still lands in its own session.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from allscope.app.field_store import FieldStore, GalleryRecord
from allscope.core.results import FieldResult, Flag, MaskResult

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaptureRequest:
    kind: str  # "flag" or "manual"
    frame_bgr: np.ndarray
    mask: MaskResult | None
    result: FieldResult
    flag: Flag | None
    store: FieldStore | None = None  # the store current when the field was taken (its session)
    classify: Callable[[], FieldResult] | None = None  # run on the writer thread, before storing


@dataclass(frozen=True)
class CaptureOutcome:
    """A stored record, or the error that kept the field from being stored."""

    request: CaptureRequest
    record: GalleryRecord | None = None
    error: str | None = None


class FieldWriter:
    """One thread that stores capture requests in order; ``close()`` finishes pending ones."""

    def __init__(self, store: FieldStore, max_pending: int = 16, max_outbox: int = 256) -> None:
        self.store = store
        self._queue: queue.Queue[CaptureRequest | None] = queue.Queue(maxsize=max_pending)
        self._outbox: deque[CaptureOutcome] = deque(maxlen=max_outbox)
        self.refused = 0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="allscope-field-writer", daemon=True)
        self._thread.start()

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    def submit(self, kind: str, frame_bgr: np.ndarray, mask: MaskResult | None,
               result: FieldResult, flag: Flag | None = None,
               classify: Callable[[], FieldResult] | None = None) -> bool:
        """Queue a field for storing; False (and counted in ``refused``) when the queue is full.

        ``classify``, when given, is called on the writer thread and its result is stored
        instead of ``result``: a hand capture is classified there, never on the GUI thread.
        """
        if self._closed:
            return False
        request = CaptureRequest(kind, frame_bgr, mask, result, flag, self.store, classify)
        try:
            self._queue.put_nowait(request)
        except queue.Full:
            self.refused += 1
            return False
        return True

    def drain(self) -> list[CaptureOutcome]:
        """Outcomes stored since the last call, oldest first (GUI thread)."""
        outcomes = []
        while self._outbox:
            outcomes.append(self._outbox.popleft())
        return outcomes

    def pending(self) -> int:
        return self._queue.qsize()

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        self._thread.join(timeout)
        if self._thread.is_alive():
            log.error("field writer did not finish within %.1f s", timeout)

    def _run(self) -> None:
        while True:
            request = self._queue.get()
            if request is None:
                return
            try:
                store = request.store or self.store
                result = request.result if request.classify is None else request.classify()
                record = store.add_field(request.kind, request.frame_bgr, request.mask,
                                         result, request.flag)
            except Exception as exc:  # every failure must reach the user
                log.exception("storing a %s field failed", request.kind)
                self._outbox.append(CaptureOutcome(request, error=str(exc) or type(exc).__name__))
            else:
                self._outbox.append(CaptureOutcome(request, record=record))
