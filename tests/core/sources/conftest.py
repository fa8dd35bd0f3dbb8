"""The camera tests' recorded file: a camera on a machine that has none."""

import pytest
from camera_helpers import write_camera_video


@pytest.fixture
def video(tmp_path):
    """Ten 64x48 MJPG frames, the blue channel stepping by 20 per frame."""
    return write_camera_video(tmp_path / "camera.avi")
