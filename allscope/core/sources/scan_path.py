"""Stage motion over a large canvas: how a person scans a smear at the microscope.

The viewport visits dwell points in serpentine order (left to right, then right to left one
band lower), moves between them with eased acceleration at a microscope-like speed, pauses
for a jittered dwell, and refocuses on arrival. Time advances by one frame period per state,
so the path is the same whether the source is paced or runs as fast as possible.
Shared by the demo slide and the virtual slide.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, slots=True)
class PanState:
    """Viewport top-left (x, y) in canvas pixels, whether the stage moves, and blur sigma."""

    x: int
    y: int
    moving: bool
    dwell_id: int | None  # counts dwells from 0; None while moving
    defocus: float  # Gaussian sigma in output pixels, 0 when in focus


class PanPath:
    """Serpentine scan over ``targets`` (canvas points to centre the view on)."""

    def __init__(
        self, canvas_size: tuple[int, int], view_size: tuple[int, int],
        targets: Sequence[tuple[float, float]] | None = None, *, fps: float = 30.0,
        speed_px_s: float = 1500.0, dwell_s: float = 2.0, defocus: bool = True, seed: int = 0,
        loop: bool = True,
    ) -> None:
        (cw, ch), (vw, vh) = canvas_size, view_size
        if vw > cw or vh > ch:
            raise ValueError(f"view {vw}x{vh} is larger than the canvas {cw}x{ch}")
        self.canvas_size, self.view_size = (cw, ch), (vw, vh)
        self.fps, self.speed, self.dwell_s = float(fps), float(speed_px_s), float(dwell_s)
        self.defocus, self.loop = defocus, loop
        self._rng = np.random.default_rng(seed)
        points = list(targets) if targets else _grid_points(canvas_size, view_size)
        self._stops = [self._clamp(p) for p in serpentine(points, band=vh)]
        self._blur_scale = vh / 1080.0  # blur amounts are tuned for a 1080-line view

    def _clamp(self, point: tuple[float, float]) -> tuple[float, float]:
        (cw, ch), (vw, vh) = self.canvas_size, self.view_size
        x = min(max(point[0] - vw / 2, 0.0), cw - vw)
        y = min(max(point[1] - vh / 2, 0.0), ch - vh)
        return x, y

    def states(self) -> Iterator[PanState]:
        """One state per frame period, forever when looping."""
        order = self._stops
        here, dwell_id = order[0], 0
        yield from self._dwell(here, dwell_id)
        while True:
            if not self.loop and len(order) == 1:
                return
            for target in order[1:] or order:
                yield from self._move(here, target)
                here, dwell_id = target, dwell_id + 1
                yield from self._dwell(here, dwell_id)
            if not self.loop:
                return
            order = order[::-1]  # come back the other way, like a person scanning a smear

    def _dwell(self, at: tuple[float, float], dwell_id: int) -> Iterator[PanState]:
        n = max(1, round(self.dwell_s * self._rng.uniform(0.7, 1.3) * self.fps))
        settle = 0.4 * self.fps  # frames to refocus after arriving
        for i in range(n):
            blur = 2.0 * self._blur_scale * max(0.0, 1.0 - i / settle) if self.defocus else 0.0
            yield PanState(round(at[0]), round(at[1]), False, dwell_id, blur if i else blur * 0.5)

    def _move(self, a: tuple[float, float], b: tuple[float, float]) -> Iterator[PanState]:
        distance = float(np.hypot(b[0] - a[0], b[1] - a[1]))
        if distance < 1.0:
            return
        n = max(2, round(max(distance / self.speed, 0.25) * self.fps))
        for i in range(1, n):
            s = i / n
            eased = s * s * (3 - 2 * s)
            speed = 6 * s * (1 - s) * distance / (n / self.fps)  # derivative of the easing
            blur = min(6.0, 3.0 * speed / self.speed) * self._blur_scale if self.defocus else 0.0
            x, y = a[0] + (b[0] - a[0]) * eased, a[1] + (b[1] - a[1]) * eased
            yield PanState(round(x), round(y), True, None, blur)


def serpentine(points: Sequence[tuple[float, float]], band: float) -> list[tuple[float, float]]:
    """Order points in horizontal bands of height ``band``, alternating direction per band."""
    rows: dict[int, list[tuple[float, float]]] = {}
    for p in points:
        rows.setdefault(int(p[1] // band), []).append(p)
    ordered: list[tuple[float, float]] = []
    for i, key in enumerate(sorted(rows)):
        ordered += sorted(rows[key], key=lambda p: p[0], reverse=bool(i % 2))
    return ordered


def _grid_points(canvas: tuple[int, int], view: tuple[int, int]) -> list[tuple[float, float]]:
    """View centres covering the canvas with about 20% overlap."""
    return grid_points(canvas, view, 0.8)


def grid_points(
    canvas: tuple[int, int], view: tuple[int, int], step: float
) -> list[tuple[float, float]]:
    """View centres covering the canvas, neighbours at most ``step`` × the view apart."""
    axes = []
    for c, v in zip(canvas, view, strict=False):
        n = max(1, int(np.ceil((c - v) / (step * v))) + 1)
        axes.append(np.linspace(v / 2, c - v / 2, n))
    return [(float(x), float(y)) for y in axes[1] for x in axes[0]]


def defocus(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian defocus; large sigmas blur a downscaled copy so a 1080p frame costs a few ms."""
    if sigma < 0.3:
        return image
    factor = int(sigma // 1.0)
    if factor < 2:
        return cv2.GaussianBlur(image, (0, 0), sigma)
    h, w = image.shape[:2]
    small = cv2.resize(
        image, (max(1, w // factor), max(1, h // factor)), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), sigma / factor)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
