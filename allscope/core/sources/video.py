"""Video files (mp4, avi, anything OpenCV's FFmpeg backend reads) as a frame source.

Unpaced, frames come as fast as they decode (batch analysis); paced, they come at the file's
frame rate like a live camera (demonstrations, the live pipeline on a recording).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from allscope.core.frames import Frame, FrameSource, SourceError
from allscope.core.sources.images import to_bgr8
from allscope.core.sources.pacing import Pacer

_MAX_DAMAGED_RUN = 500  # consecutive undecodable frames after which the rest is given up
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".wmv", ".mpg", ".mpeg")


def is_video_path(path: str | Path) -> bool:
    """True when the file name says video (mp4, avi, mov, ...); the content is checked on open."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def open_video(path: Path) -> cv2.VideoCapture:
    """An opened capture that has a first frame; SourceError names the file and the problem."""
    if not path.is_file():
        raise SourceError(f"{path}: video file not found")
    if path.stat().st_size == 0:
        raise SourceError(f"{path}: empty file (0 bytes)")
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened() or not cap.grab():
        cap.release()
        raise SourceError(f"{path}: not a readable video (unknown format, unsupported codec "
                          "or damaged file); convert it to MP4 (H.264) or MJPG AVI")
    cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
    return cap


class VideoSource(FrameSource):
    """Every frame of a video file; ``paced`` plays at the file's fps, ``loop`` restarts it."""

    def __init__(self, path: str | Path, paced: bool = False, loop: bool = False) -> None:
        super().__init__()
        self.path = Path(path)
        self._cap: cv2.VideoCapture | None = open_video(self.path)
        fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if fps and 1.0 <= fps <= 1000.0 else 30.0  # some files report 0 or junk
        self.frame_count = max(0, int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)))
        self.paced, self.loop = paced, loop
        self.unread: list[int] = []  # frames the file announced but that could not be decoded
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._reading = self._closed = False
        w, h = (
            int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
            int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
        )
        self._description = f"video {self.path.name} ({w}x{h}, {self.fps:g} fps)"

    @property
    def live(self) -> bool:
        return self.paced

    def describe(self) -> str:
        return self._description

    def frames(self) -> Iterator[Frame]:
        with self._lock:
            if self._cap is None or self._reading:
                return
            self._reading = True
        try:
            yield from self._read(self._cap)
        finally:
            with self._lock:
                self._reading = False
                if self._closed:
                    self._release()

    def _read(self, cap: cv2.VideoCapture) -> Iterator[Frame]:
        pacer = Pacer(self.fps, self._stop) if self.paced else None
        index = 0
        while not self.stopped:
            ok, image = cap.read()
            if not ok:
                if 0 < index < self.frame_count and len(self._failed_run(index)) < _MAX_DAMAGED_RUN:
                    self.unread.append(index)  # damaged data: read on, the decoder resynchronises
                    index += 1
                    continue
                if not self.loop or index == 0 or not cap.set(cv2.CAP_PROP_POS_FRAMES, 0):
                    self._note_missing(index)
                    return
                index = 0
                continue
            if pacer is not None and not pacer.wait():
                return
            if self.stopped:
                return
            yield Frame(next(self._ids), time.monotonic(), _bgr(image), self._description,
                        name=f"{self.path.stem}_{index}", path=str(self.path), frame_index=index)
            index += 1

    def _failed_run(self, index: int) -> list[int]:
        """The unread frames just before ``index`` (the current run of damage)."""
        run: list[int] = []
        for frame in reversed(self.unread):
            if frame != index - len(run) - 1:
                break
            run.append(frame)
        return run

    def _note_missing(self, index: int) -> None:
        """Frames the header announced but the file did not deliver count as unread."""
        if not self.loop and index < self.frame_count:
            self.unread.extend(range(index, self.frame_count))

    def damaged_runs(self) -> list[tuple[int, int]]:
        """(first, last) frame index of each run of frames that could not be decoded."""
        runs: list[tuple[int, int]] = []
        for frame in sorted(set(self.unread)):
            if runs and frame == runs[-1][1] + 1:
                runs[-1] = (runs[-1][0], frame)
            else:
                runs.append((frame, frame))
        return runs

    def close(self) -> None:
        """Stop and release the file; a reader still inside frames() releases it on exit."""
        super().close()
        with self._lock:
            self._closed = True
            if not self._reading:
                self._release()

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


def _bgr(image: np.ndarray) -> np.ndarray:
    """Frames as C-contiguous 3-channel BGR, whatever the decoder delivered."""
    if image.ndim == 2 or image.shape[2] != 3:
        return to_bgr8(image)
    return image if image.flags.c_contiguous else image.copy()
