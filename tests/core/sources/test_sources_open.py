"""open_source: what a user may type to name a source."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from allscope.core.frames import SourceError
from allscope.core.sources import (
    DemoSlideSource,
    ImageSource,
    VideoSource,
    VirtualSlideSource,
    open_source,
)


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "imgs").mkdir()
    cv2.imwrite(str(tmp_path / "imgs" / "a.png"), np.zeros((8, 8, 3), np.uint8))
    return tmp_path / "imgs"


def test_demo(tmp_path):
    source = open_source("demo", width=96, height=64, paced=False)
    assert isinstance(source, DemoSlideSource) and source.size == (96, 64)


def test_camera_index_that_does_not_exist_raises():
    with pytest.raises(SourceError, match="camera 57 could not be opened"):
        open_source("camera:57")


def test_video_file(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (32, 24))
    writer.write(np.zeros((24, 32, 3), np.uint8))
    writer.release()
    assert isinstance(open_source(str(path), paced=True), VideoSource)


def test_image_folder_and_single_image(folder):
    assert isinstance(open_source(str(folder)), ImageSource)
    assert isinstance(open_source(str(folder / "a.png")), ImageSource)


def test_slide_prefix_builds_a_virtual_slide(folder):
    source = open_source(f"slide:{folder}", out_size=(16, 16), paced=False)
    assert isinstance(source, VirtualSlideSource)


def test_anything_else_says_what_is_accepted(tmp_path):
    with pytest.raises(SourceError, match="use 'demo', 'camera:N', 'slide:FOLDER'"):
        open_source(str(tmp_path / "nowhere"))


def test_a_file_that_is_neither_video_nor_image_says_which_are(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a field")
    with pytest.raises(SourceError, match="notes.txt is neither a video .* nor an image") as caught:
        open_source(str(notes))
    assert ".mp4" in str(caught.value) and ".png" in str(caught.value)
