"""What a batch run will read (``allscope.core.batch``): inputs expanded in order and the number
of fields announced before the run (for its progress bar)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from allscope.core.batch import expand_inputs, expected_fields
from allscope.core.frames import SourceError


def write_video(path, frames=6):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (32, 24))
    for i in range(frames):
        writer.write(np.full((24, 32, 3), 30 * i, np.uint8))
    writer.release()
    return path


@pytest.fixture
def inputs(tmp_path):
    folder = tmp_path / "fields"
    (folder / "inner").mkdir(parents=True)
    for path in (folder / "a.png", folder / "inner" / "b.jpg", tmp_path / "c.png"):
        cv2.imwrite(str(path), np.zeros((8, 8, 3), np.uint8))
    return folder, tmp_path / "c.png", write_video(tmp_path / "clip.avi")


def test_inputs_are_expanded_in_order_as_videos_or_images(inputs):
    folder, image, video = inputs
    assert expand_inputs([video, folder, image]) == [
        ("video", video), ("images", folder), ("images", image)
    ]


def test_a_missing_input_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(SourceError, match="nowhere.png: no such file or folder; check the path"):
        expand_inputs([tmp_path / "nowhere.png"])


def test_the_expected_count_adds_images_found_and_video_frames(inputs):
    folder, image, video = inputs
    assert expected_fields([folder, image, video]) == 2 + 1 + 6


def test_a_video_that_cannot_be_opened_is_left_out_of_the_count(inputs, tmp_path):
    folder, _, _ = inputs
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video")
    assert expected_fields([folder, broken]) == 2  # its error row comes when the run reaches it
