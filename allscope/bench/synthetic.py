"""The one synthetic field of the benchmarks (and of the mask tests that need a realistic smear).

A small procedural smear: shaded pink background, pale red cells with central pallor, and
white cells (purple lobed nucleus in light cytoplasm), with sensor noise, so that the mask has
real work to do. Deterministic for a given seed.
"""

from __future__ import annotations

import cv2
import numpy as np

_BACKGROUND = (222, 215, 230)  # BGR; LAB a about 134
_RED_CELL = (212, 203, 227)  # a about 137: below the 141 cut
_NUCLEUS = (150, 45, 110)  # a about 175
_CYTOPLASM = (215, 195, 205)


def synthetic_field(width: int, height: int, seed: int = 0, wbcs: int = 3) -> np.ndarray:
    """A smear-like BGR field: shaded background, pale red cells with central pallor, and
    ``wbcs`` white cells (purple lobed nucleus in light cytoplasm), with sensor noise."""
    rng = np.random.default_rng(seed)
    scale = min(width, height) / 224.0
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:] = _BACKGROUND
    for _ in range(int(rng.integers(8, 14) * width * height / (224 * 224 * scale * scale))):
        center = (int(rng.integers(0, width)), int(rng.integers(0, height)))
        radius = max(2, int(rng.uniform(14, 18) * scale))
        cv2.circle(image, center, radius, _RED_CELL, -1, cv2.LINE_AA)
        cv2.circle(image, center, radius // 3, _BACKGROUND, -1, cv2.LINE_AA)
    for center in _spread_centers(rng, width, height, wbcs, margin=30 * scale, gap=62 * scale):
        cv2.circle(image, center, max(3, int(26 * scale)), _CYTOPLASM, -1, cv2.LINE_AA)
        for _ in range(int(rng.integers(1, 4))):
            offset = rng.normal(0, 6 * scale, 2)
            lobe = (int(center[0] + offset[0]), int(center[1] + offset[1]))
            axes = (max(2, int(rng.uniform(10, 16) * scale)),
                    max(2, int(rng.uniform(8, 13) * scale)))  # fmt: skip
            angle = float(rng.uniform(0, 180))
            cv2.ellipse(image, lobe, axes, angle, 0, 360, _NUCLEUS, -1, cv2.LINE_AA)
    shade = np.linspace(0.93, 1.04, width, dtype=np.float32)[None, :, None]
    blurred = cv2.GaussianBlur(image * shade, (0, 0), 1.0 * scale)
    noise: np.ndarray = rng.normal(0.0, 2.5, size=image.shape)
    blurred += noise.astype(np.float32)
    return np.clip(blurred, 0, 255).astype(np.uint8)


def _spread_centers(
    rng: np.random.Generator, width: int, height: int, count: int, margin: float, gap: float
) -> list[tuple[int, int]]:
    """Up to ``count`` random points inside the margin, at least ``gap`` apart."""
    centers: list[tuple[int, int]] = []
    for _ in range(200 * count):
        if len(centers) == count:
            break
        x, y = rng.uniform(margin, width - margin), rng.uniform(margin, height - margin)
        if all((x - cx) ** 2 + (y - cy) ** 2 >= gap * gap for cx, cy in centers):
            centers.append((int(x), int(y)))
    return centers
