"""Shared fixtures for the trust tests: demo-slide fields with their exact WBC masks."""

from __future__ import annotations

import time

import cv2
import numpy as np

from allscope.core.frames import Frame, FrameSource
from allscope.core.results import MaskResult, WbcCandidate
from allscope.core.sources.demo.slide import render_field


def truth_mask_result(mask: np.ndarray) -> MaskResult:
    """A MaskResult built from an exact truth mask (one candidate per connected component)."""
    n, _, stats, centres = cv2.connectedComponentsWithStats(mask)
    candidates = tuple(
        WbcCandidate(
            int(stats[i, 4]), tuple(int(v) for v in stats[i, :4]),
            (float(centres[i, 0]), float(centres[i, 1])),
        )
        for i in range(1, n)
    )
    return MaskResult(mask, np.zeros((*mask.shape, 3), np.uint8), candidates, np.zeros(3), 0.0)


def demo_field(
    width: int = 640, height: int = 360, seed: int = 1, **kwargs
) -> tuple[np.ndarray, MaskResult]:
    """A demo-slide field and its truth MaskResult."""
    image, mask, _ = render_field(width, height, seed=seed, **kwargs)
    return image, truth_mask_result(mask)


def as_frame(image: np.ndarray, frame_id: int = 0) -> Frame:
    return Frame(id=frame_id, timestamp=0.0, image=np.ascontiguousarray(image), source="test")


class Repeat(FrameSource):
    """One image, ``count`` times at 30 fps (a still stage over one field)."""

    def __init__(self, image, count):
        super().__init__()
        self.image, self.count = image, count

    def describe(self):
        return "repeat"

    def frames(self):
        for i in range(self.count):
            if self.stopped:
                return
            yield Frame(
                id=i, timestamp=time.monotonic(), image=self.image, source="repeat", name=f"f{i}"
            )
            time.sleep(1 / 30)
