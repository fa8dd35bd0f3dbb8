"""Small real inputs for the GUI tests: results, masks and fields drawn with cv2."""

from __future__ import annotations

import cv2
import numpy as np

from allscope.core.results import FieldResult, MaskResult, WbcCandidate

CLASSES = ("Benign", "Early Pre-B", "Pre-B", "Pro-B")


def field_with_cells(width: int = 320, height: int = 180, centres=((80, 90), (220, 60))) -> tuple[np.ndarray, MaskResult]:
    """A pink field with purple discs, and the mask of exactly those discs."""
    image = np.full((height, width, 3), (200, 180, 230), np.uint8)
    mask = np.zeros((height, width), np.uint8)
    for x, y in centres:
        cv2.circle(image, (x, y), 18, (140, 40, 90), -1)
        cv2.circle(mask, (x, y), 18, 255, -1)
    candidates = tuple(
        WbcCandidate(area=int(np.pi * 18 * 18), bbox=(x - 18, y - 18, 37, 37), centroid=(float(x), float(y)))
        for x, y in centres
    )
    masked = cv2.bitwise_and(image, image, mask=mask)
    return image, MaskResult(mask, masked, candidates, np.array([120.0, 160.0]), 1.0)


def result(p_all: float | None = 0.8, wbc: int = 2, assessable: bool = True, frame_id: int = 1,
           probabilities: tuple[float, ...] | None = None, reasons: tuple[str, ...] = ()) -> FieldResult:
    """A FieldResult; probabilities default to P(benign) = 1 - p_all with Pre-B the top ALL class."""
    if p_all is not None and probabilities is None:
        probabilities = (1 - p_all, p_all * 0.2, p_all * 0.5, p_all * 0.3)
    return FieldResult(
        frame_id=frame_id, timestamp=0.0, source="test", name=f"field_{frame_id}", wbc_count=wbc,
        mask_coverage=0.02, assessable=assessable, reasons=reasons,
        classes=CLASSES if probabilities else (), probabilities=probabilities,
        label=None if probabilities is None else CLASSES[int(np.argmax(probabilities))], p_all=p_all,
    )
