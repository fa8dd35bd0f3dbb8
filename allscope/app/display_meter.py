"""What the display achieved: frames shown, timer lateness, and the ``--quit-after`` figures.

Counting starts when the first frame is shown, so that opening the source and compiling the
model are not counted as display stalls.
"""

from __future__ import annotations

import time
from typing import Any

from allscope.core.handoff import RateMeter
from allscope.core.pipeline import PipelineStats

LATE_MS = 50.0  # the target's worst acceptable stall


class DisplayMeter:
    """Fed by the display timer: ``tick`` at each timeout, ``frame_shown`` per new frame."""

    def __init__(self, interval_ms: float) -> None:
        self.interval_ms = interval_ms
        self.rate = RateMeter()
        self.displayed = 0
        self.max_stall_ms = 0.0
        self.first_shown_at: float | None = None
        self.counts_at_first = (
            0,
            0,
        )  # pipeline (processed, classified) when the first frame showed
        self._last_tick: float | None = None
        self._cpu_at_first = 0.0
        self.ticks = 0
        self.late_ticks = 0  # ticks more than LATE_MS late

    def tick(self) -> None:
        """One display timer timeout: how late it came counts as a stall."""
        now = time.perf_counter()
        if self._last_tick is not None and self.first_shown_at is not None:
            stall = (now - self._last_tick) * 1e3 - self.interval_ms
            self.max_stall_ms = max(self.max_stall_ms, stall)
            self.ticks += 1
            self.late_ticks += stall > LATE_MS
        self._last_tick = now

    def frame_shown(self, stats: PipelineStats) -> None:
        """A new frame was painted; ``stats`` are the pipeline's, for the first one."""
        self.displayed += 1
        self.rate.tick()
        if self.first_shown_at is None:
            self.first_shown_at = time.monotonic()
            self.counts_at_first = (stats.processed, stats.classified)
            self._cpu_at_first = time.thread_time()  # the display timer runs on the GUI thread

    def metrics(self, stats: PipelineStats | None, flags: int) -> dict[str, Any]:
        """Average rates since the first frame was shown, the worst stall, and the flag count.

        Call on the GUI thread: ``gui_thread_cpu_pct`` is that thread's CPU time over the run,
        a cost of the display that does not depend on how busy the rest of the machine is.
        """
        elapsed = 0.0 if self.first_shown_at is None else time.monotonic() - self.first_shown_at

        def per_s(count: int) -> float:
            return round(count / elapsed, 2) if elapsed > 0 else 0.0

        processed = 0 if stats is None else stats.processed - self.counts_at_first[0]
        classified = 0 if stats is None else stats.classified - self.counts_at_first[1]
        return {
            "display_fps": per_s(max(0, self.displayed - 1)),
            "processed_fps": per_s(processed),
            "classified_per_s": per_s(classified),
            "max_stall_ms": round(self.max_stall_ms, 1),
            "ticks_over_50ms": f"{self.late_ticks}/{self.ticks}",
            "flags": flags,
            "seconds": round(elapsed, 2),
            "dropped": 0 if stats is None else stats.dropped,
            "gui_thread_cpu_pct": round(
                100 * (time.thread_time() - self._cpu_at_first) / elapsed, 1
            )
            if elapsed > 0
            else 0.0,
        }
