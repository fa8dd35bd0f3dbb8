"""A source wrapper that keeps a reference to the newest captured frame for the display.

The pipeline's snapshot changes at the processing rate; the camera delivers faster. The
display shows every captured frame it can (with the newest mask's outlines) by reading
``latest_frame()``: one reference, replaced by the capture thread, read by the GUI timer.
Everything else (describe, controls, set_control, on_status, ...) goes to the wrapped source.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from allscope.core.frames import Frame, FrameSource


class TeeSource(FrameSource):
    """Yields the wrapped source's frames unchanged, remembering the newest one."""

    def __init__(self, inner: FrameSource) -> None:
        super().__init__()
        self.inner = inner
        self._latest: Frame | None = None

    def frames(self) -> Iterator[Frame]:
        for frame in self.inner.frames():
            self._latest = frame  # a reference swap: atomic under the GIL, no lock needed
            yield frame

    def latest_frame(self) -> Frame | None:
        return self._latest

    def describe(self) -> str:
        return self.inner.describe()

    @property
    def live(self) -> bool:
        return self.inner.live

    @property
    def stopped(self) -> bool:
        return self.inner.stopped

    def stop(self) -> None:
        super().stop()
        self.inner.stop()

    def close(self) -> None:
        super().stop()
        self.inner.close()

    def __getattr__(self, name: str) -> Any:
        # Only called for names TeeSource lacks: camera controls, granted(), on_status(), ...
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)
