"""One camera connection (``CaptureLink``) on real OpenCV captures of a recorded file: a device
that does not open, a driver that raises mid-stream, a link abandoned before it started."""

from __future__ import annotations

import logging
import threading

from camera_helpers import CAMERA_SIZE as SIZE
from camera_helpers import FileCamera

from allscope.core.sources.camera_link import CaptureLink


def test_a_device_that_does_not_open_is_released_and_refused(tmp_path):
    missing = FileCamera(tmp_path / "no-such-file.avi")
    link = CaptureLink(lambda: missing, lambda cap, everything: None)
    assert not link.open()
    assert missing.released.is_set()
    assert not CaptureLink(lambda: None, lambda cap, everything: None).open()


def test_a_driver_error_mid_stream_ends_the_link_and_releases_the_capture(video, caplog):
    capture = FileCamera(video, unplug_after=3, mode="raise")
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
    capture = FileCamera(video)
    link = CaptureLink(lambda: capture, lambda cap, everything: None)
    assert link.open()
    link.abandon()  # nobody reads yet: the capture is released at once
    assert capture.released.is_set()
    link.start()  # too late: no reader thread is started
    assert not link.wait_first(0.3, threading.Event())
    assert capture.reads == 0
