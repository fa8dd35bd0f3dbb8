"""VideoSource on MJPG .avi and mp4v .mp4 files written here with cv2.VideoWriter."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest

from allscope.core.frames import SourceError
from allscope.core.sources import Pacer, VideoSource

SIZE = (64, 48)


def write_video(path, fourcc, n=8, fps=25.0):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, SIZE)
    assert writer.isOpened(), f"this OpenCV cannot write {fourcc}"
    for i in range(n):
        writer.write(np.full((SIZE[1], SIZE[0], 3), 25 * i + 20, np.uint8))
    writer.release()
    return path


@pytest.fixture(params=[("clip.avi", "MJPG"), ("clip.mp4", "mp4v")], ids=["avi", "mp4"])
def clip(request, tmp_path):
    name, fourcc = request.param
    return write_video(tmp_path / name, fourcc)


def test_every_frame_is_read_in_order(clip):
    frames = list(VideoSource(clip).frames())
    assert [f.frame_index for f in frames] == list(range(8))
    levels = [float(f.image.mean()) for f in frames]
    assert levels == pytest.approx([25 * i + 20 for i in range(8)], abs=6)


def test_frames_are_named_after_the_file_and_frame_number(clip):
    frames = list(VideoSource(clip).frames())
    assert [f.name for f in frames[:3]] == ["clip_0", "clip_1", "clip_2"]
    assert frames[0].path == str(clip)


def test_file_rate_and_length_are_reported(clip):
    source = VideoSource(clip)
    assert source.fps == pytest.approx(25.0)
    assert source.frame_count == 8
    assert "clip" in source.describe() and "25 fps" in source.describe()


def test_loop_starts_over_at_the_end(clip):
    source = VideoSource(clip, loop=True)
    indices = []
    for frame in source.frames():
        indices.append(frame.frame_index)
        if len(indices) == 12:
            break
    assert indices == list(range(8)) + [0, 1, 2, 3]


class CountingPacer(Pacer):
    """The real pacer, recording its rate and how often a frame waited for its tick."""

    made: list[CountingPacer] = []

    def __init__(self, fps, stop):
        super().__init__(fps, stop)
        self.fps, self.waits = fps, 0
        CountingPacer.made.append(self)

    def wait(self):
        self.waits += 1
        return super().wait()


def test_paced_playback_waits_for_a_tick_of_the_file_rate_before_every_frame(tmp_path, monkeypatch):
    import allscope.core.sources.video as video

    monkeypatch.setattr(CountingPacer, "made", [])
    monkeypatch.setattr(video, "Pacer", CountingPacer)
    path = write_video(tmp_path / "fast.avi", "MJPG", n=6, fps=50.0)
    source = VideoSource(path, paced=True)
    frames = list(source.frames())
    assert source.live and len(frames) == 6
    [pacer] = CountingPacer.made
    assert pacer.fps == pytest.approx(50.0) and pacer.waits == 6
    unpaced = VideoSource(path)
    assert len(list(unpaced.frames())) == 6 and not unpaced.live
    assert len(CountingPacer.made) == 1  # unpaced playback never waits


def test_missing_file_raises_not_found(tmp_path):
    with pytest.raises(SourceError, match="video file not found"):
        VideoSource(tmp_path / "absent.mp4")


def test_empty_file_raises_empty(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    with pytest.raises(SourceError, match="empty file"):
        VideoSource(tmp_path / "empty.mp4")


def test_non_video_raises_not_a_readable_video(tmp_path):
    (tmp_path / "notes.mp4").write_text("this is a text file, not a video" * 20)
    with pytest.raises(SourceError, match="not a readable video"):
        VideoSource(tmp_path / "notes.mp4")


def test_pacer_wakes_at_once_when_stopped():
    stop = threading.Event()
    pacer = Pacer(0.2, stop)  # a frame every 5 s
    assert pacer.wait()  # the first frame is due at once
    result = []
    worker = threading.Thread(target=lambda: result.append(pacer.wait()))
    worker.start()
    stop.set()
    worker.join(1.0)
    assert result == [False]


def test_pacer_rejects_a_rate_that_is_not_positive():
    with pytest.raises(ValueError, match="frame rate must be positive"):
        Pacer(0, threading.Event())


class FakeClock:
    """time.monotonic for the pacer, and a stop event whose wait() advances it (no real sleep)."""

    def __init__(self):
        self.now, self.slept = 100.0, []

    def monotonic(self):
        return self.now

    def wait(self, seconds):
        self.slept.append(round(seconds, 9))
        self.now += seconds
        return False

    def is_set(self):
        return False


def test_pacer_spaces_frames_one_period_apart_and_skips_ticks_after_a_stall(monkeypatch):
    import types

    import allscope.core.sources.pacing as pacing

    clock = FakeClock()
    monkeypatch.setattr(pacing, "time", types.SimpleNamespace(monotonic=clock.monotonic))
    pacer = Pacer(50.0, clock)
    assert all(pacer.wait() for _ in range(3))
    assert clock.slept == [0.02, 0.02]  # the first frame at once, then one period each
    clock.now += 0.5  # a consumer stalled for 25 periods
    assert pacer.wait() and clock.slept == [0.02, 0.02]  # no burst of catch-up frames...
    assert pacer.wait() and clock.slept == [0.02, 0.02, 0.02]  # ...the clock restarts


def test_closing_while_a_reader_is_inside_frames_releases_the_file_when_it_leaves(clip):
    source = VideoSource(clip)
    reader = source.frames()
    assert next(reader).frame_index == 0
    source.close()  # from another part of the app, say: the reader still holds the capture
    assert source._cap is not None
    assert list(reader) == []  # the reader sees the stop and leaves
    assert source._cap is None  # and released the file on its way out
    assert list(source.frames()) == []  # a closed source yields nothing


def test_a_second_reader_of_the_same_source_gets_nothing(clip):
    source = VideoSource(clip)
    first = source.frames()
    next(first)
    assert list(source.frames()) == []  # one capture, one reader
    assert len(list(first)) == 7
    source.close()
