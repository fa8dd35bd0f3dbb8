"""The display's figures: nothing counts before the first frame is shown, rates count from
then on, and a timer tick is late when it comes more than 50 ms after its interval."""

from __future__ import annotations

import time

from allscope.app.display_meter import LATE_MS, DisplayMeter
from allscope.core.pipeline import PipelineStats


def stats(processed: int, classified: int, dropped: int = 0) -> PipelineStats:
    return PipelineStats(captured=processed + dropped, processed=processed,
                         classified=classified, dropped=dropped, capture_fps=0.0,
                         processed_fps=0.0, classified_per_s=0.0, infer_ms=0.0,
                         latency_p50_ms=0.0, latency_p95_ms=0.0)


def test_before_the_first_frame_nothing_is_counted():
    meter = DisplayMeter(interval_ms=0.0)
    meter.tick()
    time.sleep(LATE_MS / 1e3 + 0.02)
    meter.tick()  # late, but opening the source is not a display stall
    assert meter.metrics(None, flags=0) == {
        "display_fps": 0.0, "processed_fps": 0.0, "classified_per_s": 0.0,
        "max_stall_ms": 0.0, "ticks_over_50ms": "0/0", "flags": 0, "seconds": 0.0,
        "dropped": 0, "gui_thread_cpu_pct": 0.0,
    }


def test_rates_count_only_the_work_done_after_the_first_frame_was_shown():
    meter = DisplayMeter(interval_ms=1e6)  # a timer this slow is never late
    meter.frame_shown(stats(100, 40))
    meter.frame_shown(stats(150, 50))  # only the first frame's counts are the start
    assert meter.counts_at_first == (100, 40) and meter.displayed == 2
    figures = meter.metrics(stats(300, 90, dropped=7), flags=3)
    assert figures["processed_fps"] > 0 and figures["classified_per_s"] > 0
    # the same elapsed time divides both: 200 processed against 50 classified
    assert abs(figures["processed_fps"] / figures["classified_per_s"] - 4.0) < 0.01
    assert (figures["flags"], figures["dropped"], figures["ticks_over_50ms"]) == (3, 7, "0/0")
    assert figures["display_fps"] > 0  # one frame after the first
    none = meter.metrics(None, flags=0)
    assert (none["processed_fps"], none["classified_per_s"], none["dropped"]) == (0.0, 0.0, 0)


def test_a_tick_is_late_only_beyond_the_limit():
    meter = DisplayMeter(interval_ms=0.0)
    meter.frame_shown(stats(0, 0))
    meter.tick()
    time.sleep(LATE_MS / 1e3 + 0.02)
    meter.tick()  # at least 70 ms after the last
    figures = meter.metrics(stats(0, 0), flags=0)
    assert figures["ticks_over_50ms"] == "1/1"
    assert figures["max_stall_ms"] >= LATE_MS + 20 - 1
    on_time = DisplayMeter(interval_ms=1e6)
    on_time.frame_shown(stats(0, 0))
    on_time.tick()
    on_time.tick()
    assert on_time.metrics(None, flags=0)["ticks_over_50ms"] == "0/1"
    assert on_time.max_stall_ms == 0.0  # a tick early is no stall
