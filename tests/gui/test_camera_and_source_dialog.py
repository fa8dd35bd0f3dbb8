"""Camera controls against the real CameraSource (driver: OpenCV on a recorded file), and the
source picker."""

import cv2
import pytest
from camera_helpers import write_camera_video

from allscope.core.sources import CameraInfo, CameraSource, DemoSlideSource
from allscope.gui.camera_panel import NOT_A_CAMERA, CameraControls
from allscope.gui.source_dialog import SourceDialog, build_spec


@pytest.fixture
def video(tmp_path):
    return write_camera_video(tmp_path / "camera.avi")


class GainDriver:
    """A real capture on a file whose driver also has a gain control that it rounds to whole steps,
    as many UVC cameras do. Wraps (OpenCV crashes when a VideoCapture subclass is collected)."""

    def __init__(self, path):
        self.cap = cv2.VideoCapture(str(path))
        self.gain = 1.0

    def get(self, prop):
        return self.gain if prop == cv2.CAP_PROP_GAIN else self.cap.get(prop)

    def set(self, prop, value):
        if prop == cv2.CAP_PROP_GAIN:
            self.gain = float(round(value))
            return True
        return self.cap.set(prop, value)

    def __getattr__(self, name):
        return getattr(self.cap, name)


def test_controls_the_driver_lacks_are_disabled_with_a_reason(qtbot, video):
    source = CameraSource(0, capture_factory=lambda: cv2.VideoCapture(str(video)))
    controls = CameraControls()
    qtbot.addWidget(controls)
    try:
        controls.set_source(source)
        assert not controls.spins["exposure"].isEnabled()
        assert "does not support exposure" in controls.spins["exposure"].toolTip()
        assert not controls.autos["white_balance"].isEnabled()
        assert controls.granted_resolution.text() == "granted 64 × 48"
    finally:
        source.close()


def test_a_changed_control_shows_what_the_driver_granted(qtbot, video):
    source = CameraSource(0, capture_factory=lambda: GainDriver(video))
    controls = CameraControls()
    qtbot.addWidget(controls)
    asked = []
    controls.control_changed.connect(lambda name, value: asked.append((name, value)))
    try:
        controls.set_source(source)
        assert controls.spins["gain"].isEnabled()
        controls.spins["gain"].setValue(3.4)
        qtbot.waitUntil(lambda: source.controls()["gain"].value == 3.0, timeout=5000)
        controls.refresh()
        assert controls.granted["gain"].text() == "granted 3"
        assert asked == [("gain", 3.4)]
    finally:
        source.close()


def test_a_source_that_is_not_a_camera_disables_the_panel(qtbot):
    controls = CameraControls()
    qtbot.addWidget(controls)
    controls.set_source(DemoSlideSource(320, 180, paced=False))
    assert not controls.resolution.isEnabled() and controls.resolution.toolTip() == NOT_A_CAMERA
    assert all(not spin.isEnabled() for spin in controls.spins.values())


@pytest.mark.parametrize("kind, value, message", [
    ("video", "", "Choose a file"), ("video", "/no/such/file.avi", "is not a file"),
    ("folder", "/no/such/folder", "is not a folder"), ("camera", "", "none was found"),
])
def test_bad_choices_say_what_is_wrong(kind, value, message):
    with pytest.raises(ValueError, match=message):
        build_spec(kind, value)


def test_dialog_builds_specs_for_each_kind(qtbot, tmp_path, video):
    dialog = SourceDialog([CameraInfo(2, "USB microscope", "v4l2")], last_spec=f"slide:{tmp_path}")
    qtbot.addWidget(dialog)
    assert dialog.kind() == "slide" and dialog.current_choice() == (f"slide:{tmp_path}", {})
    dialog.radios["camera"].setChecked(True)
    dialog.resolution.setCurrentIndex(1)
    assert dialog.current_choice() == ("camera:2", {"width": 1280, "height": 720, "fps": 30.0})
    dialog.radios["video"].setChecked(True)
    dialog.paths["video"].setText(str(video))
    assert dialog.current_choice() == (str(video), {})
    dialog.radios["demo"].setChecked(True)
    dialog.accept()
    assert dialog.chosen() == ("demo", {})


def test_dialog_keeps_open_and_explains_a_missing_folder(qtbot, tmp_path):
    dialog = SourceDialog([])
    qtbot.addWidget(dialog)
    assert not dialog.radios["camera"].isEnabled() and dialog.kind() == "demo"
    dialog.radios["folder"].setChecked(True)
    dialog.paths["folder"].setText(str(tmp_path / "missing"))
    dialog.accept()
    assert dialog.chosen() is None and "is not a folder" in dialog.error_label.text()
