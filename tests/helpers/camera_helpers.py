"""A camera for tests on a machine that has none: real OpenCV capture code on a recorded file.

``write_camera_video`` records the file; ``FileCamera`` plays it as a camera would (it loops,
records what was set, and can be unplugged); ``CaptureFactory`` hands prepared captures to a
``CameraSource`` in order, then healthy ones.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

CAMERA_SIZE = (64, 48)


def write_camera_video(path: Path, frames: int = 10, size: tuple[int, int] = CAMERA_SIZE) -> Path:
    """An MJPG file at 25 fps whose frame ``i`` is BGR (20 i, 120, 240 - 20 i): the blue
    channel steps by 20 per frame, so a test can tell which frames it was given."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, size)
    for i in range(frames):
        writer.write(np.full((size[1], size[0], 3), (20 * i, 120, 240 - 20 * i), np.uint8))
    writer.release()
    return path


class FileCamera:
    """A real cv2.VideoCapture on a file that loops, records set() calls, and can be unplugged.

    After ``unplug_after`` frames, read() does what the ``mode`` says a pulled cable does:
    "hang" blocks until the capture is released, "fail" returns (False, None), "raise" raises
    cv2.error as a failing backend does. ``gate`` (a semaphore) makes each read() take one
    permit; ``first_delay`` holds the first read (a camera warming up). ``sets`` lists each
    (property, value) set; ``set_calls`` the same with the thread that set it and whether a
    read was under way. Wraps instead of subclassing: OpenCV 5.0 segfaults when a Python
    subclass of VideoCapture is garbage-collected.
    """

    def __init__(self, path, unplug_after=None, mode="hang", first_delay=0.0, gate=None):
        self.cap = cv2.VideoCapture(str(path))
        self.gate = gate
        self.first_delay = first_delay
        self.unplug_after, self.mode, self.reads = unplug_after, mode, 0
        self.released = threading.Event()
        self.sets: list[tuple[int, float]] = []
        self.set_calls: list[tuple[int, float, str, bool]] = []
        self.reading = False

    def read(self):
        if self.unplug_after is not None and self.reads >= self.unplug_after:
            if self.mode == "raise":
                raise cv2.error("driver: device lost")
            if self.mode == "hang":
                self.released.wait(30)
            return False, None
        if self.gate is not None and not self.gate.acquire(timeout=30):
            return False, None
        self.reading = True
        if self.reads == 0 and self.first_delay:
            time.sleep(self.first_delay)
        ok, frame = self.cap.read()
        if not ok:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.cap.read()
        self.reading = False
        self.reads += 1
        return ok, frame

    def set(self, prop, value):
        self.sets.append((prop, value))
        self.set_calls.append((prop, value, threading.current_thread().name, self.reading))
        return self.cap.set(prop, value)

    def isOpened(self):
        return self.cap.isOpened()

    def get(self, prop):
        return self.cap.get(prop)

    def getBackendName(self):
        return self.cap.getBackendName()

    def release(self):
        self.released.set()
        self.cap.release()


class CaptureFactory:
    """A ``capture_factory``: hands out the prepared captures in order, then healthy ones on
    ``path``; ``made`` lists every capture handed out."""

    def __init__(self, path, *captures):
        self.path, self.queue, self.made = path, list(captures), []

    def __call__(self):
        cap = self.queue.pop(0) if self.queue else FileCamera(self.path)
        self.made.append(cap)
        return cap
