"""Camera backends, formats and controls (``allscope.core.sources.camera_controls``) on real
OpenCV captures of a recorded video file (the test machine has no camera)."""

from __future__ import annotations

import cv2
import pytest
from camera_helpers import FileCamera

from allscope.core.frames import SourceError
from allscope.core.sources.camera_controls import (
    BACKENDS,
    CONTROL_NAMES,
    backend_id,
    backend_name,
    default_backend,
    enumerate_cameras,
    fourcc_text,
    read_controls,
    request_format,
    set_control,
)


@pytest.mark.parametrize(
    ("platform", "backend"),
    [
        ("linux", cv2.CAP_V4L2),
        ("win32", cv2.CAP_DSHOW),
        ("darwin", cv2.CAP_AVFOUNDATION),
        ("freebsd14", cv2.CAP_ANY),
    ],
)
def test_the_default_backend_follows_the_platform(monkeypatch, platform, backend):
    monkeypatch.setattr("sys.platform", platform)
    assert default_backend() == backend
    assert backend_id(None) == backend


def test_backends_are_named_in_any_case_or_given_by_number():
    assert backend_id("DShow") == cv2.CAP_DSHOW
    assert backend_id("v4l2") == cv2.CAP_V4L2
    assert backend_id(cv2.CAP_MSMF) == cv2.CAP_MSMF
    assert backend_name(cv2.CAP_AVFOUNDATION) == "AVFOUNDATION"
    assert backend_name(12345) == "12345"  # a backend number allscope has no name for


def test_an_unknown_backend_name_lists_the_known_ones():
    with pytest.raises(SourceError, match="unknown camera backend 'firewire'; use") as caught:
        backend_id("firewire")
    assert all(name in str(caught.value) for name in BACKENDS)


def test_an_unknown_control_is_refused_with_the_known_names(video):
    cap = FileCamera(video)
    with pytest.raises(ValueError, match="unknown camera control 'zoom'") as caught:
        set_control(cap, cv2.CAP_V4L2, "zoom", 2.0)
    assert all(name in str(caught.value) for name in CONTROL_NAMES)
    assert cap.sets == []  # nothing was sent to the driver


@pytest.mark.parametrize(
    ("backend", "on", "off"), [(cv2.CAP_V4L2, 3.0, 1.0), (cv2.CAP_DSHOW, 0.75, 0.25)]
)
def test_auto_exposure_uses_the_backends_own_values(video, backend, on, off):
    cap = FileCamera(video)
    set_control(cap, backend, "auto_exposure", True)
    set_control(cap, backend, "auto_exposure", False)
    set_control(cap, backend, "auto_white_balance", True)
    assert cap.sets == [
        (cv2.CAP_PROP_AUTO_EXPOSURE, on),
        (cv2.CAP_PROP_AUTO_EXPOSURE, off),
        (cv2.CAP_PROP_AUTO_WB, 1.0),
    ]


def test_a_control_without_an_auto_mode_is_set_alone(video):
    cap = FileCamera(video)
    set_control(cap, cv2.CAP_V4L2, "gain", 4)
    assert cap.sets == [(cv2.CAP_PROP_GAIN, 4.0)]


def test_a_requested_size_comes_with_mjpg_and_only_what_was_asked_is_sent(video):
    cap = FileCamera(video)
    request_format(cap)
    assert cap.sets == []
    request_format(cap, fps=30)
    assert cap.sets == [(cv2.CAP_PROP_FPS, 30.0)]
    cap.sets.clear()
    request_format(cap, height=1080)
    assert cap.sets == [
        (cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG")),
        (cv2.CAP_PROP_FRAME_HEIGHT, 1080.0),
    ]
    cap.sets.clear()
    request_format(cap, width=1920)
    assert cap.sets == [
        (cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*"MJPG")),
        (cv2.CAP_PROP_FRAME_WIDTH, 1920.0),
    ]


def test_the_pixel_format_is_read_as_four_letters(video):
    assert fourcc_text(cv2.VideoCapture(str(video))) == "MJPG"


def test_a_driver_that_does_not_say_its_pixel_format_gives_no_letters(tmp_path):
    closed = cv2.VideoCapture()  # nothing opened: the driver reports 0
    assert fourcc_text(closed) == ""


def test_controls_a_file_lacks_are_reported_unsupported(video):
    controls = read_controls(cv2.VideoCapture(str(video)), cv2.CAP_V4L2, refused={"gain"})
    assert set(controls) == {"exposure", "gain", "white_balance", "brightness", "focus"}
    assert not controls["gain"].supported  # refused by the driver earlier
    assert controls["brightness"].auto is None  # no auto mode for brightness
    assert all(c.auto is None or isinstance(c.auto, bool) for c in controls.values())


def test_enumerate_on_other_systems_opens_each_index_and_finds_no_camera_here(monkeypatch):
    monkeypatch.setattr("sys.platform", "win32")
    assert enumerate_cameras(max_index=2, backend="any") == []


def test_enumerate_skips_sysfs_nodes_that_are_not_numbered_devices(tmp_path, monkeypatch):
    monkeypatch.setattr("sys.platform", "linux")
    (tmp_path / "video-meta").mkdir()  # not a numbered capture node
    (tmp_path / "video3").mkdir()  # a node without a name file
    cameras = enumerate_cameras(sysfs=tmp_path)
    assert [(c.index, c.name, c.backend) for c in cameras] == [(3, "Video device 3", "V4L2")]
