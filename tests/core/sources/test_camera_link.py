"""One camera connection (``CaptureLink``) on real OpenCV captures of a recorded file: a device
that does not open, a driver that raises mid-stream, a link abandoned before it started."""

from __future__ import annotations

import logging
import threading

import cv2
import numpy as np
import pytest

from allscope.core.sources.camera_link import CaptureLink

SIZE = (64, 48)


@pytest.fixture
def video(tmp_path):
    path = tmp_path / "camera.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, SIZE)
    for i in range(5):
        writer.write(np.full((SIZE[1], SIZE[0], 3), 40 * i, np.uint8))
    writer.release()
    return path


class Tracked:
    """A real capture that records its release and can raise from read() after some frames."""

    def __init__(self, path, raise_after=None):
        self.cap = cv2.VideoCapture(str(path))
        self.raise_after, self.reads = raise_after, 0
        self.released = threading.Event()

    def isOpened(self):
        return self.cap.isOpened()

    def read(self):
        if self.raise_after is not None and self.reads >= self.raise_after:
            raise cv2.error("driver: device lost")  # what a failing backend raises
        self.reads += 1
        ok, image = self.cap.read()
        if not ok:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, image = self.cap.read()
        return ok, image

    def release(self):
        self.released.set()
        self.cap.release()


def test_a_device_that_does_not_open_is_released_and_refused(tmp_path):
    missing = Tracked(tmp_path / "no-such-file.avi")
    link = CaptureLink(lambda: missing, lambda cap, everything: None)
    assert not link.open()
    assert missing.released.is_set()
    assert not CaptureLink(lambda: None, lambda cap, everything: None).open()


def test_a_driver_error_mid_stream_ends_the_link_and_releases_the_capture(video, caplog):
    capture = Tracked(video, raise_after=3)
    configured = []
    link = CaptureLink(lambda: capture, lambda cap, everything: configured.append(everything))
    assert link.open()
    with caplog.at_level(logging.ERROR, logger="allscope.core.sources.camera_link"):
        link.start()
        assert link.wait_first(30, threading.Event())
        assert capture.released.wait(30)
    assert link.failed
    assert "camera reader failed" in caplog.text and "device lost" in caplog.text
    assert configured[0] is True and set(configured[1:]) == {False}  # full set-up once
    seq, image, _ = link.wait(0, 0.0)
    assert 1 <= seq <= 3 and image.shape == (SIZE[1], SIZE[0], 3)
    link.close()


def test_a_link_abandoned_before_it_started_never_reads(video):
    capture = Tracked(video)
    link = CaptureLink(lambda: capture, lambda cap, everything: None)
    assert link.open()
    link.abandon()  # nobody reads yet: the capture is released at once
    assert capture.released.is_set()
    link.start()  # too late: no reader thread is started
    assert not link.wait_first(0.3, threading.Event())
    assert capture.reads == 0
