"""The paper's white-blood-cell mask: LAB a-channel, K-means (k=7), centres above 141.

Hosseini, Ghaderzadeh, Eshraghi et al. (Informatics in Medicine Unlocked 2023) isolate
WBCs by converting the field to LAB, clustering the a-channel (green-red axis; stained
nuclei and cytoplasm are the reddest-purple pixels) into 7 clusters, keeping the pixels
whose cluster centre exceeds 141, filling holes and removing objects under 200 px and
holes under 250 px (at 224x224). Here the K-means is exact on all pixels (see kmeans1d),
the areas scale with the frame size, and everything runs on OpenCV without scipy/skimage.
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np

from allscope.core.mask.cleanup import Components, clean_mask
from allscope.core.mask.kmeans1d import kmeans_1d_histogram
from allscope.core.mask.parameters import A_THRESHOLD, MIN_HOLE_PX, MIN_OBJECT_PX, REFERENCE_AREA, K
from allscope.core.results import MaskResult, WbcCandidate

_CALCHIST_EXACT_PIXELS = 1 << 24  # float32 bin counts are exact below this


def validate_bgr(bgr: np.ndarray) -> np.ndarray:
    """Return ``bgr`` as a C-contiguous uint8 (H, W, 3) array or raise a specific ValueError."""
    if not isinstance(bgr, np.ndarray):
        raise ValueError(f"expected a numpy BGR image, got {type(bgr).__name__}")
    if bgr.ndim != 3 or bgr.shape[2] != 3:
        raise ValueError(
            f"expected a colour BGR image of shape (H, W, 3), got shape {bgr.shape}; "
            "convert grayscale or BGRA input with cv2.cvtColor first"
        )
    if bgr.dtype != np.uint8:
        raise ValueError(
            f"expected an 8-bit (uint8) BGR image, got dtype {bgr.dtype}; "
            "scale 16-bit or float images to 0..255 uint8 first"
        )
    if bgr.shape[0] == 0 or bgr.shape[1] == 0:
        raise ValueError(f"the image is empty (shape {bgr.shape})")
    return np.ascontiguousarray(bgr)


def a_channel(bgr: np.ndarray) -> np.ndarray:
    """The 8-bit LAB a-channel as OpenCV computes it (0..255, neutral grey = 128)."""
    return cv2.extractChannel(cv2.cvtColor(bgr, cv2.COLOR_BGR2Lab), 1)


def a_histogram(a: np.ndarray) -> np.ndarray:
    """Exact 256-bin pixel counts of an 8-bit channel."""
    if a.size < _CALCHIST_EXACT_PIXELS:
        return cv2.calcHist([a], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    return np.bincount(a.ravel(), minlength=256).astype(np.float64)


def scaled_area(area: int, shape: tuple[int, ...], reference_area: int = REFERENCE_AREA) -> int:
    """An area given at the reference size (224x224), scaled to a frame of ``shape``."""
    return int(round(area * shape[0] * shape[1] / reference_area))


def foreground_cut(centers: np.ndarray, threshold: float) -> int:
    """Largest a-value that is background: pixels with a > cut belong to a cluster whose
    centre exceeds ``threshold`` (nearest centre, ties to the lower cluster)."""
    above = np.flatnonzero(centers > threshold)
    if above.size == 0:
        return 255
    first = above[0]
    if first == 0:
        return -1
    return math.floor((centers[first - 1] + centers[first]) / 2.0)


def lab_kmeans_mask(
    bgr: np.ndarray, init_centers: np.ndarray | None = None, *, k: int = K,
    threshold: float = A_THRESHOLD, min_object: int = MIN_OBJECT_PX, min_hole: int = MIN_HOLE_PX,
    reference_area: int = REFERENCE_AREA,
) -> MaskResult:
    """Mask the white blood cells of one BGR field.

    ``init_centers`` warm-starts the K-means (a live stream passes the previous frame's
    centres); without it the clustering is the exact optimum. A field with a single
    a-channel value has no contrast to segment and gets an empty mask.
    """
    bgr = validate_bgr(bgr)
    a = a_channel(bgr)
    centers, inertia = kmeans_1d_histogram(a_histogram(a), k, init_centers)
    if centers.size < 2:
        return _empty_result(bgr, centers, inertia)
    cut = foreground_cut(centers, threshold)
    _, fg = cv2.threshold(a, cut, 255, cv2.THRESH_BINARY)
    mask, parts = clean_mask(
        fg, scaled_area(min_object, a.shape, reference_area),
        scaled_area(min_hole, a.shape, reference_area),
    )
    return MaskResult(mask, _apply_mask(bgr, mask), _candidates(parts), centers, inertia)


class LiveMasker:
    """Masks the frames of one stream, warm-starting each K-means from the previous frame.

    Carrying the centres over keeps the clustering in the same basin from frame to frame,
    so the mask does not flicker between near-equal clusterings. Not thread-safe: use one
    per stream. ``reset()`` forgets the centres (new slide, new illumination).
    """

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs
        self._k = kwargs.get("k", K)
        self._centers: np.ndarray | None = None

    @property
    def centers(self) -> np.ndarray | None:
        return None if self._centers is None else self._centers.copy()

    def __call__(self, bgr: np.ndarray) -> MaskResult:
        result = lab_kmeans_mask(bgr, self._centers, **self._kwargs)
        self._centers = result.centers if result.centers.size == self._k else None
        return result

    def reset(self) -> None:
        self._centers = None


def _empty_result(bgr: np.ndarray, centers: np.ndarray, inertia: float) -> MaskResult:
    mask = np.zeros(bgr.shape[:2], dtype=np.uint8)
    return MaskResult(mask, np.zeros_like(bgr), (), centers, inertia)


def _apply_mask(bgr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The field with every pixel outside the mask set to 0."""
    return cv2.copyTo(bgr, mask)  # a newly allocated destination starts zeroed


def _candidates(parts: Components) -> tuple[WbcCandidate, ...]:
    return tuple(
        WbcCandidate(int(area), (int(x), int(y), int(w), int(h)), (float(cx), float(cy)))
        for (x, y, w, h, area), (cx, cy) in zip(parts.stats, parts.centroids, strict=False)
    )
