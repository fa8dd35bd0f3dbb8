"""Frames and the one interface every frame source implements."""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Frame:
    """One image from a source.

    ``image`` is a C-contiguous uint8 BGR array (H, W, 3), as OpenCV delivers it.
    ``id`` increases monotonically within a source; ``timestamp`` is ``time.monotonic()``
    at capture. ``name`` identifies the field for reports and mask files (the file stem
    for images, ``<stem>_<frame>`` for video frames). ``truth_mask`` is the exact WBC mask
    when the source knows it (demo slide), else None.
    """

    id: int
    timestamp: float
    image: np.ndarray
    source: str
    name: str = ""
    path: str | None = None
    frame_index: int | None = None
    truth_mask: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict[str, Any])


class SourceError(RuntimeError):
    """A source cannot deliver: unreadable file, camera missing. The message says what to do."""


class FrameSource(abc.ABC):
    """A blocking generator of frames.

    ``frames()`` yields Frame objects until the source is exhausted or ``stop()`` is called
    from another thread. Implementations never block longer than about a second without
    checking ``stopped``. ``describe()`` is a one-line human description.
    """

    def __init__(self) -> None:
        self._stop = threading.Event()

    @abc.abstractmethod
    def frames(self) -> Iterator[Frame]:
        """Yield frames until exhausted or stopped."""

    @abc.abstractmethod
    def describe(self) -> str:
        """One line naming the source, for the status bar and reports."""

    @property
    def live(self) -> bool:
        """True for sources that produce frames in real time (camera, paced video, demo)."""
        return False

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask ``frames()`` to return soon; safe from any thread."""
        self._stop.set()

    def close(self) -> None:
        """Release devices and files."""
        self.stop()

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
