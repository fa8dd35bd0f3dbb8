"""The frame loop shared by the sources that pan a view across a large picture.

The demo slide and the virtual slide differ only in how they draw the view for a stage
position; pacing, stopping, ids and the motion metadata live here once.
"""

from __future__ import annotations

import abc
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from allscope.core.frames import Frame, FrameSource
from allscope.core.sources.pacing import Pacer
from allscope.core.sources.scan_path import PanPath, PanState


@dataclass(slots=True)
class View:
    """What a panning source drew for one stage position."""

    image: np.ndarray
    truth_mask: np.ndarray | None = None
    path: str | None = None
    meta: dict[str, Any] = field(default_factory=dict[str, Any])


class PanningSource(FrameSource):
    """Frames of a view moving along a PanPath, paced at ``fps`` when ``paced``."""

    def __init__(self, fps: float, paced: bool, name: str) -> None:
        super().__init__()
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps!r}")
        self.fps, self.paced, self.name = float(fps), paced, name
        self._ids = itertools.count()

    @property
    def live(self) -> bool:
        return self.paced

    @abc.abstractmethod
    def _pan_path(self) -> PanPath:
        """A fresh path for one run of ``frames()``."""

    @abc.abstractmethod
    def _draw(self, state: PanState) -> View:
        """The view at one stage position, defocus included."""

    def frames(self) -> Iterator[Frame]:
        pacer = Pacer(self.fps, self._stop) if self.paced else None
        description = self.describe()
        for index, state in enumerate(self._pan_path().states()):
            if self.stopped or (pacer is not None and not pacer.wait()):
                return
            view = self._draw(state)
            meta = {"moving": state.moving, "dwell_id": state.dwell_id,
                    "defocus": round(state.defocus, 2), "x": state.x, "y": state.y, **view.meta}
            yield Frame(next(self._ids), time.monotonic(), view.image, description,
                        name=f"{self.name}_{index}", path=view.path, frame_index=index,
                        truth_mask=view.truth_mask, meta=meta)
