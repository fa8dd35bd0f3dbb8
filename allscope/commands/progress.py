"""Progress of a batch run: a tqdm bar on a terminal, plain timed lines for logs, else nothing.

Both show the total, the percentage, the rate and the time left, worded by tqdm's own
``format_meter`` so the terminal and the log say the same thing.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

LOG_INTERVAL_S = 5.0


class BatchProgress:
    """``progress(done, total)`` callable; ``mode`` is "auto" (bar on a terminal) or "log"."""

    def __init__(
        self,
        total: int | None,
        mode: str = "auto",
        stream: TextIO | None = None,
        unit: str = "field",
    ) -> None:
        self.stream = stream or sys.stderr
        self.total = total or None
        self.unit = unit
        self.mode = mode if mode == "log" else ("bar" if self.stream.isatty() else "off")
        self.started = time.monotonic()
        self._last_log = self.started
        self._done = 0
        self._bar = None
        if self.mode == "bar":
            self._bar = tqdm(
                total=self.total, unit=unit, file=self.stream, dynamic_ncols=True, desc="analysing"
            )

    def __call__(self, done: int, total: int | None = None) -> None:
        if total:
            self.total = total
        step, self._done = done - self._done, done
        if self._bar is not None:
            self._bar.update(step)
        elif self.mode == "log" and time.monotonic() - self._last_log >= LOG_INTERVAL_S:
            self._last_log = time.monotonic()
            self._line()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self.mode == "log":
            self._line()

    def _line(self) -> None:
        meter = tqdm.format_meter(
            self._done,
            self.total,
            time.monotonic() - self.started,
            unit=self.unit,
            prefix="analysing",
            ascii=True,
            ncols=0,
        )
        print(meter, file=self.stream, flush=True)
