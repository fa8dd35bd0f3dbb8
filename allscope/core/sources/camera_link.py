"""One connection to a camera: a capture owned by a reader thread that keeps the latest frame.

The reader is the only thread that reads from or configures the capture while it runs, so
OpenCV never sees concurrent calls. A link whose device stopped answering is abandoned, not
joined: its thread may sit in ``read()`` until the driver gives up, and releases the capture
itself when it returns. Nobody ever waits on it without a timeout.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

log = logging.getLogger(__name__)


class CaptureLink:
    """Opens (via ``opener``), configures (via ``configure(cap, everything)``) and reads."""

    def __init__(self, opener: Callable[[], cv2.VideoCapture],
                 configure: Callable[[cv2.VideoCapture, bool], None]) -> None:
        self._opener, self._configure = opener, configure
        self._cap: cv2.VideoCapture | None = None
        self._cap_lock = threading.Lock()
        self._cond = threading.Condition()
        self._latest: tuple[int, np.ndarray, float] | None = None
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None
        self.failed = False

    def open(self) -> bool:
        """Open and fully configure the capture in the calling thread; False if it won't open."""
        cap = self._opener()
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            return False
        self._cap = cap
        self._configure(cap, True)
        return True

    def start(self) -> None:
        with self._cap_lock:
            if self._thread is None and not self._quit.is_set():
                self._thread = threading.Thread(target=self._run, name="allscope-camera-reader",
                                                daemon=True)
                self._thread.start()

    def configure_if_idle(self) -> None:
        """Apply pending controls now when no reader owns the capture yet."""
        with self._cap_lock:
            if self._thread is None and self._cap is not None:
                self._configure(self._cap, False)

    def wait(self, seen: int, timeout: float) -> tuple[int, np.ndarray, float] | None:
        """The latest (seq, image, timestamp) newer than ``seen``, or None after ``timeout``."""
        with self._cond:
            self._cond.wait_for(lambda: self.failed or (self._latest is not None
                                                        and self._latest[0] > seen), timeout)
            latest = self._latest
        return latest if latest is not None and latest[0] > seen else None

    def wait_first(self, timeout: float, stop: threading.Event) -> bool:
        """True once a first frame arrived; False on failure, stop or timeout."""
        deadline = time.monotonic() + timeout
        while not stop.is_set() and not self.failed and time.monotonic() < deadline:
            if self.wait(0, 0.1) is not None:
                return True
        return False

    def abandon(self) -> None:
        """Stop using this link without waiting; the reader releases the capture on its way out."""
        self._quit.set()
        with self._cap_lock:
            idle = self._thread is None
        if idle:
            self._release()

    def close(self, timeout: float = 1.0) -> None:
        thread = self._thread
        self.abandon()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        try:
            if self._cap is None and not self.open():
                return self._fail()
            seq = 0
            while not self._quit.is_set():
                cap = self._cap
                if cap is None:  # released by close() while this thread ran
                    break
                with self._cap_lock:
                    self._configure(cap, False)
                ok, image = cap.read()
                if self._quit.is_set():
                    break
                if not ok or image is None:
                    return self._fail()
                seq += 1
                with self._cond:
                    self._latest = (seq, image, time.monotonic())
                    self._cond.notify_all()
        except Exception:  # a driver error ends this link; the source reconnects
            log.exception("camera reader failed")
            self._fail()
        finally:
            self._release()

    def _fail(self) -> None:
        with self._cond:
            self.failed = True
            self._cond.notify_all()

    def _release(self) -> None:
        cap, self._cap = self._cap, None
        if cap is not None:
            cap.release()
