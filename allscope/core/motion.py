"""Cheap stage-motion estimate: mean absolute difference of tiny grey thumbnails."""

from __future__ import annotations

import cv2
import numpy as np

THUMB_WIDTH = 96


def thumbnail(bgr: np.ndarray) -> np.ndarray:
    h, w = bgr.shape[:2]
    size = (THUMB_WIDTH, max(1, round(THUMB_WIDTH * h / w)))
    grey = cv2.cvtColor(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    return grey.astype(np.int16)


class MotionDetector:
    """Says whether the field moved since the previous frame.

    ``threshold`` is the mean absolute grey-level difference (0-255) of 96-px-wide thumbnails
    above which the stage is considered moving; sensor noise stays well below 2.
    """

    def __init__(self, threshold: float = 4.0) -> None:
        self.threshold = threshold
        self._previous: np.ndarray | None = None
        self.last_score = 0.0

    def reset(self) -> None:
        self._previous = None

    def __call__(self, bgr: np.ndarray) -> bool:
        thumb = thumbnail(bgr)
        previous, self._previous = self._previous, thumb
        if previous is None or previous.shape != thumb.shape:
            self.last_score = 0.0
            return False
        self.last_score = float(np.mean(np.abs(thumb - previous)))
        return self.last_score > self.threshold
