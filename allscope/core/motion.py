"""Cheap stage-motion estimate on tiny grey thumbnails: brightness change and phase correlation.

Two signs of a moving stage, either enough: the thumbnail changed (mean absolute difference,
catches any change of view) or it shifted (phase correlation, catches slow pans whose frames
differ little). The thumbnail is made by a nearest-neighbour reduction to a quarter and an area
average from there, so a 1920×1080 frame costs well under a millisecond.
"""

from __future__ import annotations

import cv2
import numpy as np

THUMB_WIDTH = 96


def thumbnail(bgr: np.ndarray) -> np.ndarray:
    """A THUMB_WIDTH-wide grey thumbnail (float32), averaged enough to hide sensor noise."""
    h, w = bgr.shape[:2]
    if w >= 4 * THUMB_WIDTH:
        bgr = cv2.resize(bgr, (w // 4, max(1, h // 4)), interpolation=cv2.INTER_NEAREST)
    size = (THUMB_WIDTH, max(1, round(THUMB_WIDTH * h / w)))
    grey = cv2.cvtColor(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    return grey.astype(np.float32)


class MotionDetector:
    """Says whether the field moved since the previous frame.

    ``threshold`` is the mean absolute grey-level difference (0-255) of the thumbnails above
    which the view changed; sensor noise stays well below 2. ``shift_threshold`` is the shift
    (fraction of the width) above which the stage moved. ``last_score`` and ``last_shift``
    hold the latest values.
    """

    def __init__(self, threshold: float = 4.0, shift_threshold: float = 0.01) -> None:
        self.threshold = threshold
        self.shift_threshold = shift_threshold
        self._previous: np.ndarray | None = None
        self._window: np.ndarray | None = None
        self.last_score = 0.0
        self.last_shift = 0.0

    def reset(self) -> None:
        self._previous = None

    def __call__(self, bgr: np.ndarray) -> bool:
        thumb = thumbnail(bgr)
        previous, self._previous = self._previous, thumb
        if previous is None or previous.shape != thumb.shape:
            self.last_score = self.last_shift = 0.0
            return False
        self.last_score = float(cv2.norm(thumb, previous, cv2.NORM_L1) / thumb.size)
        if self._window is None or self._window.shape != thumb.shape:
            self._window = cv2.createHanningWindow(thumb.shape[::-1], cv2.CV_32F)
        # phaseCorrelate windows its inputs in place: give it copies, keep the thumbnails clean
        (dx, dy), _ = cv2.phaseCorrelate(previous.copy(), thumb.copy(), self._window)
        self.last_shift = float(np.hypot(dx, dy) / thumb.shape[1])
        return self.last_score > self.threshold or self.last_shift > self.shift_threshold
