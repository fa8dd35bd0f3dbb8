"""Real-time pacing shared by every source that plays at a fixed rate.

One implementation for the demo slide, the virtual slide and paced video, so they all behave
like a camera: frames come at the nominal rate, a slow consumer causes skipped ticks rather
than a burst of catch-up frames, and ``stop()`` wakes a waiting source at once.
"""

from __future__ import annotations

import threading
import time


class Pacer:
    """Waits until the next frame is due at ``fps``; returns False as soon as ``stop`` is set."""

    def __init__(self, fps: float, stop: threading.Event) -> None:
        if not fps > 0:
            raise ValueError(f"frame rate must be positive, got {fps!r}")
        self.period = 1.0 / float(fps)
        self._stop = stop
        self._due: float | None = None

    def wait(self) -> bool:
        """Sleep until the next tick; True when a frame should be produced, False when stopped."""
        now = time.monotonic()
        if self._due is None or now - self._due > self.period:
            self._due = now  # first frame, or fell behind by a whole period: restart the clock
        elif self._due > now and self._stop.wait(self._due - now):
            return False
        self._due += self.period
        return not self._stop.is_set()
