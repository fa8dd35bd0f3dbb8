"""What the window's display timer does: paint the newest frame of the live run, if it is new.

The display polls ``LiveController.latest_frame()`` and ``latest()``; nothing pushes frames to
it. A frame is painted once (a repaint only when a newer mask arrives for it), the
classification panel and the P(ALL) plot follow each new snapshot, and ``DisplayMeter``
counts what was shown for ``--quit-after``. The newest frame is usually newer than the newest
analysed one (analysis runs at its own pace): the cell outlines of the analysed frame are drawn
on it only while it still shows the same view, so outlines never float beside the cells
while the stage moves.
"""

from __future__ import annotations

import time

import numpy as np

from allscope.app.display_meter import DisplayMeter
from allscope.app.live_run import LiveController
from allscope.core.motion import same_view, thumbnail
from allscope.core.pipeline import LiveSnapshot
from allscope.gui.classification_panel import ClassificationPanel
from allscope.gui.live_view import LiveView
from allscope.gui.plots import RollingPlots


class LiveDisplay:
    """Paints a live run into ``live_view``; ``tick`` is called every ``interval_ms``."""

    def __init__(self, live_view: LiveView, panel: ClassificationPanel, plots: RollingPlots,
                 interval_ms: int) -> None:
        self.live_view, self.panel, self.plots = live_view, panel, plots
        self.interval_ms = interval_ms
        self.reset()

    def reset(self) -> None:
        """Start counting afresh (a new source was opened)."""
        self.meter = DisplayMeter(self.interval_ms)
        self._shown: tuple[int, int, str] | None = None  # frame id, snapshot frame id, mode
        self._shown_frame_id: int | None = None
        self._last_p_id: int | None = None
        self._analysed_view: tuple[int, np.ndarray] | None = None  # frame id, its thumbnail

    @property
    def displayed(self) -> int:
        """New frames painted since the current source opened."""
        return self.meter.displayed

    def tick(self, controller: LiveController | None) -> None:
        self.meter.tick()
        if controller is None:
            return
        frame, snapshot = controller.latest_frame(), controller.latest()
        if frame is None:
            return
        key = (frame.id, -1 if snapshot is None else snapshot.frame.id, self.live_view.mode)
        if key == self._shown:
            return
        new_snapshot = self._shown is None or snapshot is not None and key[1] != self._shown[1]
        self._shown = key
        current = snapshot is not None and (
            snapshot.frame.id == frame.id or self._same_view(snapshot, frame.image)
        )
        mask = None if snapshot is None else snapshot.mask
        self.live_view.show_field(frame.image, mask, outlines=current)
        if snapshot is not None and new_snapshot:
            self._show_snapshot(snapshot)
        if frame.id != self._shown_frame_id:  # count new frames, not repaints with a newer mask
            self._shown_frame_id = frame.id
            self.meter.frame_shown(controller.stats())

    def _same_view(self, snapshot: LiveSnapshot, image: np.ndarray) -> bool:
        """Whether ``image`` still shows the analysed frame's view (its outlines fit)."""
        if snapshot.moving:
            return False
        if self._analysed_view is None or self._analysed_view[0] != snapshot.frame.id:
            self._analysed_view = (snapshot.frame.id, thumbnail(snapshot.frame.image))
        return same_view(self._analysed_view[1], thumbnail(image))

    def _show_snapshot(self, snapshot: LiveSnapshot) -> None:
        now = time.monotonic()
        self.panel.show_result(snapshot.result, snapshot.last_classified, now)
        classified = snapshot.last_classified
        if classified is None or classified.p_all is None:
            return
        if classified.frame_id != self._last_p_id:
            self._last_p_id = classified.frame_id
            self.plots.add_p_all(now, classified.p_all)
