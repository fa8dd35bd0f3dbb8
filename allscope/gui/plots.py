"""Rolling plots: P(ALL) over the last N seconds against the threshold, and the app's speed.

Data go into fixed-size ring buffers (nothing grows with session length); the curves are
redrawn by ``refresh()``, which the window calls a few times a second, not per frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QWidget

PLOT_COUNT = 3
ALL_COLOUR = (200, 40, 40)
THRESHOLD_COLOUR = (90, 90, 90)


class RollingSeries:
    """A ring buffer of (time, value) pairs; ``view()`` returns them oldest first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._t = np.zeros(capacity)
        self._v = np.zeros(capacity)
        self._next = 0
        self._count = 0

    @property
    def capacity(self) -> int:
        return self._t.size

    def __len__(self) -> int:
        return self._count

    def append(self, t: float, value: float) -> None:
        self._t[self._next] = t
        self._v[self._next] = value
        self._next = (self._next + 1) % self.capacity
        self._count = min(self._count + 1, self.capacity)

    def view(self, since: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the stored pairs in time order, optionally only those at or after ``since``."""
        start = (self._next - self._count) % self.capacity
        order = (np.arange(self._count) + start) % self.capacity
        t, v = self._t[order], self._v[order]
        if since is not None:
            keep = t >= since
            t, v = t[keep], v[keep]
        return t, v

    def clear(self) -> None:
        self._next = self._count = 0


def _plot(title: str, y_label: str) -> pg.PlotWidget:
    plot = pg.PlotWidget(title=title)
    plot.setBackground("w")
    # no grid: it doubles to quadruples the cost of every repaint (measured with QWidget.grab)
    plot.setLabel("bottom", "seconds")
    plot.setLabel("left", y_label)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.setMinimumHeight(110)
    return plot


class RollingPlots(QWidget):
    """P(ALL) with the threshold line; display and processing fps; inference latency."""

    def __init__(self, seconds: float = 60.0, threshold: float = 0.5, parent=None) -> None:
        super().__init__(parent)
        self.seconds = float(seconds)
        capacity = (
            int(self.seconds * 25) + 1
        )  # classified fields a second, at most, kept for the plot
        self.p_all = RollingSeries(capacity)
        self.display_fps = RollingSeries(int(self.seconds * 4) + 1)
        self.processed_fps = RollingSeries(int(self.seconds * 4) + 1)
        self.infer_ms = RollingSeries(int(self.seconds * 4) + 1)

        self.p_plot = _plot("P(ALL)", "P(ALL)")
        self.p_plot.setYRange(0, 1, padding=0.02)
        self.p_curve = self.p_plot.plot(pen=pg.mkPen(ALL_COLOUR, width=2))
        self.threshold_line = pg.InfiniteLine(
            pos=threshold, angle=0,
            pen=pg.mkPen(THRESHOLD_COLOUR, width=1, style=pg.QtCore.Qt.PenStyle.DashLine),
            label="threshold {value:.2f}", labelOpts={"position": 0.8, "color": THRESHOLD_COLOUR},
        )
        self.p_plot.addItem(self.threshold_line)

        self.fps_plot = _plot("Frames per second", "fps")
        self.fps_plot.addLegend(offset=(5, 5))
        self.display_curve = self.fps_plot.plot(
            pen=pg.mkPen((30, 90, 200), width=2), name="display"
        )
        self.processed_curve = self.fps_plot.plot(
            pen=pg.mkPen((20, 150, 70), width=2), name="processing"
        )

        self.latency_plot = _plot("Inference latency", "ms")
        self.latency_curve = self.latency_plot.plot(pen=pg.mkPen((150, 60, 160), width=2))

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for plot in (self.p_plot, self.fps_plot, self.latency_plot):
            plot.setXRange(-self.seconds, 0, padding=0)
            layout.addWidget(plot)

    def set_threshold(self, threshold: float) -> None:
        self.threshold_line.setValue(float(threshold))

    def add_p_all(self, t: float, p_all: float) -> None:
        self.p_all.append(t, p_all)

    def add_rates(
        self, t: float, display_fps: float, processed_fps: float, infer_ms: float
    ) -> None:
        self.display_fps.append(t, display_fps)
        self.processed_fps.append(t, processed_fps)
        self.infer_ms.append(t, infer_ms)

    def clear(self) -> None:
        for series in (self.p_all, self.display_fps, self.processed_fps, self.infer_ms):
            series.clear()
        self.refresh(0.0)

    def refresh(self, now: float, which: int | None = None) -> None:
        """Redraw the curves with time relative to ``now`` (time.monotonic()).

        ``which`` (0 P(ALL), 1 rates, 2 latency) redraws one plot only: a plot repaint costs
        a few milliseconds, so the window redraws them in turn rather than all in one pass.
        """
        since = now - self.seconds
        for index, pairs in enumerate(self._curves()):
            if which is not None and index != which:
                continue
            for series, curve in pairs:
                t, v = series.view(since)
                curve.setData(t - now, v)

    def _curves(self) -> tuple:
        return (
            ((self.p_all, self.p_curve),),
            ((self.display_fps, self.display_curve), (self.processed_fps, self.processed_curve)),
            ((self.infer_ms, self.latency_curve),),
        )
