"""CameraSource on real OpenCV capture code: a VideoCapture opened on a recorded video file.

The machine running the tests has no camera, so the capture factory is injected. An unplug
is a wrapper around a real capture whose read() stops returning (hangs) or fails after a few
frames, exactly what a USB camera does when its cable is pulled.
"""

from __future__ import annotations

import threading

import cv2
import pytest
from camera_helpers import CAMERA_SIZE as SIZE
from camera_helpers import CaptureFactory, FileCamera

from allscope.core.frames import SourceError
from allscope.core.sources import CameraSource, enumerate_cameras


def collect(source, n, within=30.0, after_each=None):
    """The first n frames, read on a worker so that a hung source fails the test, not CI.

    ``after_each()`` runs after each frame but the last (to let the capture read the next).
    """
    frames = []

    def read():
        for frame in source.frames():
            frames.append(frame)
            if len(frames) >= n:
                break
            if after_each is not None:
                after_each()

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(within)
    if worker.is_alive():
        source.stop()
        pytest.fail(f"frames() hung: {len(frames)} of {n} frames after {within} s")
    return frames


def test_missing_device_index_raises_a_clear_source_error():
    with pytest.raises(SourceError, match=r"camera 57 could not be opened .*plugged in"):
        CameraSource(57)


def test_frames_are_the_pictures_the_capture_delivers(video):
    # The capture reads a picture only after the previous one was taken from the source, so
    # the latest-frame box has nothing to drop however slow the machine is.
    gate = threading.Semaphore(1)
    capture = FileCamera(video, gate=gate)
    with CameraSource(0, capture_factory=CaptureFactory(video, capture), stall_timeout=30) as cam:
        frames = collect(cam, 3, after_each=gate.release)
        reads, dropped = capture.reads, cam.dropped
        gate.release()  # let a reader waiting for its next permit see the close
    assert [f.image.shape for f in frames] == [(SIZE[1], SIZE[0], 3)] * 3
    # the recorded frames step the blue channel by 20 per frame (MJPG keeps it within a few)
    blues = [float(f.image[..., 0].mean()) for f in frames]
    assert blues == pytest.approx([0, 20, 40], abs=4)
    assert (reads, dropped) == (3, 0)


def test_granted_reports_what_the_capture_answered(video):
    with CameraSource(0, width=1920, height=1080, capture_factory=CaptureFactory(video)) as cam:
        granted = cam.granted()
    assert (granted["width"], granted["height"]) == SIZE  # a file cannot grant 1920x1080
    assert granted["resolution"] == SIZE
    assert granted["fps"] == pytest.approx(25.0)
    assert granted["backend"] == "FFMPEG"


def test_controls_the_driver_lacks_are_marked_unsupported(video):
    with CameraSource(0, exposure=-6.0, gain=4.0, capture_factory=CaptureFactory(video)) as cam:
        controls = cam.controls()
    assert not controls["exposure"].supported and controls["exposure"].value is None
    assert not controls["gain"].supported
    assert controls["exposure"].auto is None


def test_manual_exposure_turns_auto_exposure_off_first(video):
    factory = CaptureFactory(video)
    with CameraSource(0, exposure=-6.0, capture_factory=factory):
        props = [p for p, *_ in factory.made[0].sets]
    assert props.index(cv2.CAP_PROP_AUTO_EXPOSURE) < props.index(cv2.CAP_PROP_EXPOSURE)


def test_set_control_while_streaming_is_applied_by_the_reader_between_reads(video):
    factory = CaptureFactory(video)
    with CameraSource(0, capture_factory=factory) as cam:
        frames = cam.frames()
        next(frames)
        applied = cam.set_control("gain", 3.0, wait=5.0)
        gain_sets = [s for s in factory.made[0].set_calls if s[0] == cv2.CAP_PROP_GAIN]
    assert applied
    assert [(v, thread, reading) for _, v, thread, reading in gain_sets] == \
        [(3.0, "allscope-camera-reader", False)]


def test_set_control_before_streaming_is_applied_at_once(video):
    factory = CaptureFactory(video)
    with CameraSource(0, capture_factory=factory) as cam:
        assert cam.set_control("brightness", 0.5, wait=0.0)
    assert (cv2.CAP_PROP_BRIGHTNESS, 0.5) in [(p, v) for p, v, *_ in factory.made[0].sets]


def test_set_control_rejects_unknown_names(video):
    with (
        CameraSource(0, capture_factory=CaptureFactory(video)) as cam,
        pytest.raises(ValueError, match="unknown camera control 'zoom'"),
    ):
        cam.set_control("zoom", 2)


@pytest.mark.parametrize("mode", ["hang", "fail"])
def test_unplugged_camera_is_reported_lost_and_reconnected(video, mode):
    dying = FileCamera(video, unplug_after=3, mode=mode)
    statuses = []
    cam = CameraSource(0, capture_factory=CaptureFactory(video, dying), stall_timeout=0.2,
                       backoff=(0.05, 0.2))
    cam.on_status(statuses.append)
    try:
        frames = collect(cam, 6)
    finally:
        cam.close()
        dying.released.set()
    assert statuses == ["lost", "reconnecting (attempt 1)", "connected"]
    assert [f.id for f in frames] == list(range(6))
    assert cam.reconnects == 1


def test_a_slow_first_frame_is_not_taken_for_an_unplug(video):
    statuses = []
    slow = FileCamera(video, first_delay=0.3)
    cam = CameraSource(0, capture_factory=CaptureFactory(video, slow), stall_timeout=0.05)
    cam.on_status(statuses.append)
    with cam:
        assert len(collect(cam, 3)) == 3
    assert statuses == []


def test_reconnection_retries_with_backoff_until_the_device_opens(video, tmp_path):
    missing = tmp_path / "unplugged.avi"  # a capture on a missing file does not open
    dying = FileCamera(video, unplug_after=2, mode="fail")
    factory = CaptureFactory(video, dying, FileCamera(missing), FileCamera(missing))
    statuses = []
    cam = CameraSource(0, capture_factory=factory, backoff=(0.01, 0.04))
    cam.on_status(statuses.append)
    with cam:
        collect(cam, 4)
    assert statuses == ["lost", "reconnecting (attempt 1)", "reconnecting (attempt 2)",
                        "reconnecting (attempt 3)", "connected"]


def test_settings_are_applied_again_after_a_reconnect(video):
    dying = FileCamera(video, unplug_after=2, mode="fail")
    factory = CaptureFactory(video, dying)
    with CameraSource(0, gain=5.0, capture_factory=factory, backoff=(0.01, 0.02)) as cam:
        collect(cam, 4)
    assert len(factory.made) == 2
    assert (cv2.CAP_PROP_GAIN, 5.0) in [(p, v) for p, v, *_ in factory.made[1].sets]


def test_stop_during_reconnection_ends_frames(video, tmp_path):
    dying = FileCamera(video, unplug_after=1, mode="fail")
    never = [FileCamera(tmp_path / "gone.avi") for _ in range(50)]
    cam = CameraSource(0, capture_factory=CaptureFactory(video, dying, *never), backoff=(0.05, 0.1))
    statuses = []
    cam.on_status(statuses.append)
    worker = threading.Thread(target=lambda: list(cam.frames()), daemon=True)
    worker.start()
    reconnecting = threading.Event()
    cam.on_status(lambda s: reconnecting.set() if s.startswith("reconnecting") else None)
    assert reconnecting.wait(5.0)
    cam.stop()
    worker.join(1.5)
    assert not worker.is_alive()
    assert statuses[0] == "lost" and "connected" not in statuses
    cam.close()


def test_a_failing_status_listener_does_not_stop_acquisition(video):
    dying = FileCamera(video, unplug_after=2, mode="fail")
    cam = CameraSource(0, capture_factory=CaptureFactory(video, dying), backoff=(0.01, 0.02))
    cam.on_status(lambda status: 1 / 0)
    with cam:
        assert len(collect(cam, 5)) == 5


def test_enumerate_reads_linux_sysfs_names_and_skips_metadata_nodes(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    for node, name, index in [("video0", "USB Microscope", "0"), ("video1", "USB Microscope", "1"),
                              ("video2", "HD Webcam", "0")]:
        (tmp_path / node).mkdir()
        (tmp_path / node / "name").write_text(name + "\n")
        (tmp_path / node / "index").write_text(index + "\n")
    cameras = enumerate_cameras(sysfs=tmp_path)
    assert [(c.index, c.name, c.backend) for c in cameras] == [
        (0, "USB Microscope", "V4L2"), (2, "HD Webcam", "V4L2")]


def test_enumerate_finds_nothing_without_video_devices(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    assert enumerate_cameras(sysfs=tmp_path / "absent") == []
