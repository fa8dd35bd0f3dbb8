"""One contract, every source: what the pipeline, the CLI and the GUI may rely on.

Each source runs for real: the camera through OpenCV's capture code on a recorded video file,
videos written here with cv2.VideoWriter, images written here with cv2.imwrite.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from camera_helpers import FileCamera

from allscope.core.sources import (
    CameraSource,
    DemoSlideSource,
    ImageSource,
    VideoSource,
    VirtualSlideSource,
)


def write_video(path, n=12, size=(64, 48), fps=30.0, fourcc="MJPG"):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, size)
    for i in range(n):
        writer.write(np.full((size[1], size[0], 3), (10 * i, 100, 200 - 10 * i), np.uint8))
    writer.release()
    return path


def write_images(folder, n=4, size=(40, 30)):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"field{i}.png"), np.full((size[1], size[0], 3), 40 * i, np.uint8))
    return folder


def make(kind: str, tmp_path):
    if kind == "camera":
        video = write_video(tmp_path / "cam.avi")
        return CameraSource(0, capture_factory=lambda: FileCamera(video))
    if kind in ("video", "video-paced"):
        return VideoSource(write_video(tmp_path / "v.avi"), paced=kind == "video-paced", loop=True)
    if kind == "images":
        return ImageSource([write_images(tmp_path / "imgs")])
    if kind == "virtual-slide":
        return VirtualSlideSource(write_images(tmp_path / "slide"), out_size=(64, 48),
                                  tile_size=40, paced=False, dwell_s=0.1)
    if kind == "demo":
        return DemoSlideSource(160, 120, paced=False, seed=3)
    if kind == "demo-paced":
        return DemoSlideSource(160, 120, fps=60, paced=True, seed=3)
    raise AssertionError(kind)


KINDS = ["camera", "video", "video-paced", "images", "virtual-slide", "demo", "demo-paced"]


@pytest.fixture(params=KINDS)
def source(request, tmp_path):
    src = make(request.param, tmp_path)
    yield src
    src.close()


def take(source, n):
    out = []
    for frame in source.frames():
        out.append(frame)
        if len(out) == n:
            break
    return out


def test_ids_increase_monotonically(source):
    ids = [f.id for f in take(source, 4)]
    assert len(ids) == 4
    assert all(b > a for a, b in zip(ids, ids[1:], strict=False))


def test_frames_are_contiguous_uint8_bgr(source):
    for frame in take(source, 3):
        image = frame.image
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        assert image.flags.c_contiguous


def test_timestamps_never_go_backwards(source):
    stamps = [f.timestamp for f in take(source, 4)]
    assert stamps == sorted(stamps)


def test_describe_is_one_nonempty_line_and_names_every_frame(source):
    text = source.describe()
    assert text.strip() and "\n" not in text
    assert all(f.source == text for f in take(source, 2))


# Only the synthetic demo slide knows where its white cells are; every other source has no truth.
HAS_TRUTH = {"camera": False, "video": False, "video-paced": False, "images": False,
             "virtual-slide": False, "demo": True, "demo-paced": True}


def test_truth_mask_is_a_binary_mask_of_the_frame_exactly_for_the_demo(source, request):
    kind = request.node.callspec.params["source"]
    frames = take(source, 3)
    assert len(frames) == 3
    if not HAS_TRUTH[kind]:
        assert all(frame.truth_mask is None for frame in frames)
        return
    for frame in frames:
        assert frame.truth_mask is not None
        assert frame.truth_mask.shape == frame.image.shape[:2]
        assert frame.truth_mask.dtype == np.uint8
        assert set(np.unique(frame.truth_mask)) == {0, 255}  # cells and background


def test_no_frame_after_stop_between_frames(source):
    frames = source.frames()
    next(frames)
    source.stop()
    assert next(frames, None) is None


def test_stop_from_another_thread_ends_frames(source):
    seen = threading.Event()
    count = []

    def consume():
        for _ in source.frames():
            count.append(1)
            seen.set()

    worker = threading.Thread(target=consume, daemon=True)
    worker.start()
    assert seen.wait(5.0), "no frame within 5 s"
    source.stop()
    worker.join(1.5)
    assert not worker.is_alive()


def test_close_is_idempotent_and_ends_frames(source):
    take(source, 1)
    source.close()
    source.close()
    assert list(source.frames()) == []
