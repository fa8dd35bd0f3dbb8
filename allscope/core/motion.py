"""The one motion measure: how far and how surely the view moved since the previous frame.

Two signs of a moving stage, either enough: the thumbnail changed (mean absolute difference,
catches any change of view) or it shifted (phase correlation, catches slow pans whose frames
differ little). The phase correlation runs once per frame, here; the quality gate reads its
shift and peak from the ``Motion`` this returns instead of correlating again. The thumbnail is
made by a nearest-neighbour reduction to a quarter and an area average from there, so a
1920×1080 frame costs well under a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

THUMB_WIDTH = 96  # px; motion is measured on a grey thumbnail this wide


@dataclass(frozen=True)
class Motion:
    """One frame's motion against the previous one (no previous frame: still, no shift)."""

    moving: bool
    change: float = 0.0  # mean absolute grey-level difference of the thumbnails (0-255)
    shift: float | None = None  # fraction of the field width the view moved
    match: float | None = None  # phase-correlation peak (1 = the same view, near 0 = another)
    offset: tuple[float, float] = (0.0, 0.0)  # the view content's shift (x, y) in frame pixels


STILL = Motion(False)  # an independent field (an image file): no previous frame to compare


def thumbnail(bgr: np.ndarray) -> np.ndarray:
    """A THUMB_WIDTH-wide grey thumbnail (float32), averaged enough to hide sensor noise."""
    h, w = bgr.shape[:2]
    if w >= 4 * THUMB_WIDTH:
        bgr = cv2.resize(bgr, (w // 4, max(1, h // 4)), interpolation=cv2.INTER_NEAREST)
    size = (THUMB_WIDTH, max(1, round(THUMB_WIDTH * h / w)))
    grey = cv2.cvtColor(cv2.resize(bgr, size, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    return grey.astype(np.float32)


def same_view(a: np.ndarray, b: np.ndarray, tolerance: float = 0.01) -> bool:
    """Whether two thumbnails (``thumbnail``) show the same view: shifted by at most
    ``tolerance`` × the width. Phase correlation ignores a change of brightness or colour, so
    a colour-normalised frame and its raw frame are the same view."""
    if a.shape != b.shape:
        return False
    window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(a.copy(), b.copy(), window)
    return float(np.hypot(dx, dy)) / a.shape[1] <= tolerance


class MotionDetector:
    """Measures each frame's motion against the previous frame of the same stream.

    ``threshold`` is the mean absolute grey-level difference (0-255) of the thumbnails above
    which the view changed; sensor noise stays well below 2. ``shift_threshold`` is the shift
    (fraction of the width) above which the stage moved. ``last`` holds the latest Motion.
    ``origin`` sums the opposite of every shift: the slide position (frame pixels) of the
    frame's top-left pixel relative to the first frame, how cells are placed on the slide
    (``allscope.core.cells.tracking``).
    """

    def __init__(self, threshold: float = 4.0, shift_threshold: float = 0.01) -> None:
        self.threshold = threshold
        self.shift_threshold = shift_threshold
        self._previous: np.ndarray | None = None
        self._window: np.ndarray | None = None
        self.last = STILL
        self.origin = (0.0, 0.0)

    def reset(self) -> None:
        """Forget the previous frame (a new source, or a jump): the next frame is still."""
        self._previous = None
        self.last = STILL

    def __call__(self, bgr: np.ndarray) -> Motion:
        thumb = thumbnail(bgr)
        previous, self._previous = self._previous, thumb
        if previous is None or previous.shape != thumb.shape:
            self.last = STILL
            return STILL
        change = float(cv2.norm(thumb, previous, cv2.NORM_L1) / thumb.size)
        if self._window is None or self._window.shape != thumb.shape:
            self._window = cv2.createHanningWindow(thumb.shape[::-1], cv2.CV_32F)
        # phaseCorrelate windows its inputs in place: give it copies, keep the thumbnails clean
        (dx, dy), match = cv2.phaseCorrelate(previous.copy(), thumb.copy(), self._window)
        shift = float(np.hypot(dx, dy) / thumb.shape[1])
        moving = change > self.threshold or shift > self.shift_threshold
        scale = bgr.shape[1] / thumb.shape[1]
        offset = (float(dx * scale), float(dy * scale))
        self.origin = (self.origin[0] - offset[0], self.origin[1] - offset[1])
        self.last = Motion(moving, change, shift, float(match), offset)
        return self.last
