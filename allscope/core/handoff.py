"""Small thread-safe building blocks of the live pipeline: the latest-frame box and meters."""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Generic, TypeVar

import numpy as np

log = logging.getLogger(__name__)
T = TypeVar("T")


class LatestFrame(Generic[T]):
    """A one-slot box: ``put`` overwrites (counting the frame it drops), ``take`` waits."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._closed = False
        self.dropped = 0

    def put(self, item: T) -> None:
        with self._cond:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._cond.notify()

    def take(self, timeout: float) -> T | None:
        """The newest item, or None after ``timeout`` seconds or once closed and empty."""
        with self._cond:
            if self._item is None and not self._closed:
                self._cond.wait(timeout)
            item, self._item = self._item, None
            return item

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        with self._cond:
            return self._closed and self._item is None


class RateMeter:
    """Events per second over the last ``window`` seconds."""

    def __init__(self, window: float = 2.0, maxlen: int = 512) -> None:
        self.window = window
        self._times: deque[float] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def tick(self, now: float | None = None) -> None:
        with self._lock:
            self._times.append(time.monotonic() if now is None else now)

    def rate(self, now: float | None = None) -> float:
        now = time.monotonic() if now is None else now
        with self._lock:
            recent = [t for t in self._times if now - t <= self.window]
        if len(recent) < 2:
            return 0.0
        span = max(now - recent[0], recent[-1] - recent[0])
        return (len(recent) - 1) / span if span > 0 else 0.0


class Samples:
    """The last ``maxlen`` values of a measurement, for medians and percentiles."""

    def __init__(self, maxlen: int = 256) -> None:
        self._values: deque[float] = deque(maxlen=maxlen)
        self._lock = threading.Lock()

    def add(self, value: float) -> None:
        with self._lock:
            self._values.append(value)

    def percentile(self, q: float) -> float:
        with self._lock:
            values = list(self._values)
        return float(np.percentile(values, q)) if values else 0.0


def notify_all(listeners: Iterable[Callable[..., object]], *args: object) -> None:
    """Call every listener; an exception is logged and never stops acquisition."""
    for listener in list(listeners):
        try:
            listener(*args)
        except Exception:  # a listener must never stop the stream
            log.exception("listener %r failed", listener)
