"""A USB microscope camera through OpenCV, which survives being unplugged.

Reads happen on a reader thread that keeps only the latest frame, so ``frames()`` waits
with a timeout and never hangs on a dead device: when no frame arrives for
``stall_timeout`` seconds the camera is reported "lost" and reopened with exponential
backoff ("reconnecting (attempt n)" … "connected") until it returns or the source stops.
Controls (exposure, gain, white balance, …) set at runtime are applied by the reader between
two reads, and every report says what the driver granted, not what was requested.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import cv2
import numpy as np

from allscope.core.frames import Frame, FrameSource, SourceError
from allscope.core.sources.camera_controls import (
    CONTROL_NAMES,
    ControlInfo,
    backend_id,
    backend_name,
    enumerate_cameras,
    fourcc_text,
    read_controls,
    request_format,
    set_control,
)
from allscope.core.sources.camera_link import CaptureLink

log = logging.getLogger(__name__)


class CameraSource(FrameSource):
    """Frames from camera ``index``; requested settings are re-applied after every reconnect."""

    def __init__(
        self, index: int = 0, width: int | None = None, height: int | None = None,
        fps: float | None = None, exposure: float | None = None, gain: float | None = None,
        auto_exposure: bool = True, auto_white_balance: bool = True,
        white_balance: float | None = None, backend: str | int | None = None, *,
        capture_factory: Callable[[], cv2.VideoCapture] | None = None,
        stall_timeout: float = 1.0, backoff: tuple[float, float] = (0.5, 5.0),
        connect_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.index, self.backend = index, backend_id(backend)
        self.stall_timeout, self.backoff = stall_timeout, backoff
        self.connect_timeout = connect_timeout
        self._factory = capture_factory or (lambda: cv2.VideoCapture(self.index, self.backend))
        self._format: dict[str, Any] = {"width": width, "height": height, "fps": fps}
        self._settings: dict[str, float | bool] = {"auto_exposure": auto_exposure,
                                                   "auto_white_balance": auto_white_balance}
        for name, value in (
            ("exposure", exposure), ("gain", gain), ("white_balance", white_balance),
        ):
            if value is not None:
                self._settings[name] = value
        self._lock = threading.Lock()
        self._applied = threading.Condition(self._lock)  # signalled when pending controls are set
        self._requested = self._done = 0
        self._pending: dict[str, float | bool] = {}
        self._refused: set[str] = set()
        self._granted: dict[str, Any] = {}
        self._controls: dict[str, ControlInfo] = {}
        self._listeners: list[Callable[[str], None]] = []
        self._ids = itertools.count()
        self.status, self.dropped, self.reconnects = "connecting", 0, 0
        self._description = f"camera {index}"
        self._link: CaptureLink | None = self._first_link()
        self._set_status("connected")

    # -- public --------------------------------------------------------------------------
    @property
    def live(self) -> bool:
        return True

    def describe(self) -> str:
        return self._description

    def granted(self) -> dict[str, Any]:
        """What the driver granted: backend, width, height, fps, fourcc and control values."""
        with self._lock:
            return dict(self._granted)

    def controls(self) -> dict[str, ControlInfo]:
        """Each named control as last read back from the driver."""
        with self._lock:
            return dict(self._controls)

    def set_control(self, name: str, value: float | bool, wait: float = 0.25) -> bool:
        """Request a control change; the reader applies it between two reads (at once when idle).

        Waits up to ``wait`` seconds for it to be applied, so ``controls()`` read right after
        shows what the driver granted; returns False if it is still pending (it stays queued).
        """
        if name not in CONTROL_NAMES:
            raise ValueError(
                f"unknown camera control {name!r}; use one of {', '.join(CONTROL_NAMES)}"
            )
        with self._applied:
            self._settings[name] = value
            self._pending[name] = value
            self._requested += 1
            target = self._requested
        link = self._link
        if link is not None:
            link.configure_if_idle()
        with self._applied:
            return self._applied.wait_for(lambda: self._done >= target, wait)

    def on_status(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(status)`` on "lost", "reconnecting (attempt n)", "connected"."""
        self._listeners.append(callback)

    def frames(self) -> Iterator[Frame]:
        link, seen, last = self._link, 0, time.monotonic()
        if link is None:
            return
        link.start()
        while not self.stopped:
            got = link.wait(seen, timeout=min(0.1, self.stall_timeout))
            if got is not None:
                seq, image, stamp = got
                if seen == 0:
                    self._note_frame_size(image)
                self.dropped += max(0, seq - seen - 1)
                seen, last = seq, time.monotonic()
                if self.stopped:
                    return
                frame_id = next(self._ids)
                yield Frame(frame_id, stamp, image, self._description,
                            name=f"camera{self.index}_{frame_id}")
            elif link.failed or time.monotonic() - last > (
                    self.stall_timeout if seen else self.connect_timeout):  # first frames are slow
                link = self._recover(link)
                if link is None:
                    return
                seen, last = 0, time.monotonic()

    def _note_frame_size(self, image: np.ndarray) -> None:
        """Some drivers report one size and deliver another: the delivered one is granted."""
        h, w = image.shape[:2]
        with self._lock:
            if self._granted.get("resolution") != (w, h):
                self._granted.update(width=w, height=h, resolution=(w, h))

    def close(self) -> None:
        super().close()
        link, self._link = self._link, None
        if link is not None:
            link.close()

    # -- connection ------------------------------------------------------------------------
    def _first_link(self) -> CaptureLink:
        cap = self._factory()
        if cap is None or not cap.isOpened():
            if cap is not None:
                cap.release()
            raise SourceError(self._not_found_message())
        link = CaptureLink(lambda: cap, self._configure)
        link.open()
        return link

    def _not_found_message(self) -> str:
        try:
            cameras = enumerate_cameras(backend=self.backend)
            present = ", ".join(f"{c.index} ({c.name})" for c in cameras)
        except Exception:  # enumeration is only a hint here
            present = ""
        return (f"camera {self.index} could not be opened with {backend_name(self.backend)}: "
                f"check that it is plugged in and not in use by another program. "
                f"Cameras found: {present or 'none'}.")

    def _recover(self, dead: CaptureLink) -> CaptureLink | None:
        """Report the loss, then reopen with backoff until a frame arrives or we are stopped."""
        dead.abandon()
        self._set_status("lost")
        delay = self.backoff[0]
        for attempt in itertools.count(1):
            if self._stop.wait(delay):
                return None
            self._set_status(f"reconnecting (attempt {attempt})")
            link = CaptureLink(self._factory, self._configure)
            self._link = link
            link.start()
            if link.wait_first(self.connect_timeout, self._stop):
                self.reconnects += 1
                self._set_status("connected")
                return link
            link.abandon()
            delay = min(delay * 2, self.backoff[1])
        return None

    def _configure(self, cap: cv2.VideoCapture, everything: bool) -> None:
        """Apply the format and all settings (on open) or just the pending ones; read back."""
        with self._lock:
            todo = dict(self._settings) if everything else dict(self._pending)
            self._pending.clear()
            batch = self._requested
        if not todo and not everything:
            return
        if everything:
            request_format(cap, **self._format)
        for name, value in todo.items():
            accepted = set_control(cap, self.backend, name, value)
            with self._lock:
                (self._refused.discard if accepted else self._refused.add)(name)
        controls = read_controls(cap, self.backend, self._refused)
        granted = {
            "backend": cap.getBackendName() if cap.isOpened() else backend_name(self.backend),
            "width": int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            "height": int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            "fps": float(cap.get(cv2.CAP_PROP_FPS)),
            "fourcc": fourcc_text(cap),
            **{k: c.value for k, c in controls.items()},
        }
        granted["resolution"] = (granted["width"], granted["height"])  # type: ignore[assignment]
        with self._applied:
            self._controls, self._granted = controls, granted
            self._done = batch
            self._applied.notify_all()
        self._description = (f"camera {self.index} ({granted['backend']}, {granted['width']}x"
                             f"{granted['height']}, {granted['fps']:g} fps)")

    def _set_status(self, status: str) -> None:
        self.status = status
        log.info("camera %s: %s", self.index, status)
        for callback in list(self._listeners):
            try:
                callback(status)
            except Exception:  # a listener never stops acquisition
                log.exception("camera status listener failed")

