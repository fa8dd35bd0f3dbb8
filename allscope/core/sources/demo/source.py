"""The built-in demo slide: a procedural blood smear scanned like a live microscope.

A large specimen canvas is painted once from the seed (``slide.paint_slide``), at half
the output resolution for large frames. A frame is a crop lit by the lamp (vignetting and
colour) with a little sensor noise, all at canvas resolution, and one upscale: 1920x1080 at
30 fps uses a small part of one core. The stage scans the smear in serpentine order, about
half a view per step (``VIEW_STEP``) and centred on a white cell at each stop, as a person
counting a differential moves on to new cells: each dwell shows about half a view of cells not
seen before, while each move stays short enough for the stage-motion measure to follow (cells
are counted once on the slide). ``truth_mask`` carries the exact WBC mask of every frame.
"""

from __future__ import annotations

import cv2
import numpy as np

from allscope.core.sources.demo.slide import (
    Illumination,
    default_px_per_um,
    paint_slide,
    render_field,
)

__all__ = ["DemoSlideSource", "render_field"]  # render_field: the fixture generator, re-exported
from allscope.core.sources.scan_path import PanPath, PanState, defocus, grid_points
from allscope.core.sources.viewport import PanningSource, View

WBC_PER_VIEW = 8.0  # white cells per view area: a leukaemic smear, so a short scan counts many
DWELL_S = 1.0  # seconds on each field: a brisk scan, so the 20-s demo shows many cells
VIEW_STEP = 0.6  # at most this fraction of a view between neighbouring stops of the scan


class DemoSlideSource(PanningSource):
    """An endless scan of a synthetic peripheral blood smear with ground-truth WBC masks."""

    def __init__(
        self, width: int = 1920, height: int = 1080, fps: float = 30.0, seed: int = 0,
        paced: bool = True, blast_fraction: float = 0.5, *, n_wbc: int | None = None,
        canvas_factor: float = 2.5, canvas_scale: float | None = None,
        speed_px_s: float | None = None, dwell_s: float = DWELL_S, defocus: bool = True,
        noise: float = 1.5, illumination: Illumination | None = None,
        wbc_per_view: float = WBC_PER_VIEW,
        gains: tuple[float, float, float] | None = None, loop: bool = True,
    ) -> None:
        super().__init__(fps, paced, f"demo{seed}")
        if not 0.0 <= blast_fraction <= 1.0:
            raise ValueError(f"blast_fraction must be within [0, 1], got {blast_fraction!r}")
        self.size, self.seed, self.loop = (int(width), int(height)), seed, loop
        self.scale = canvas_scale or (0.5 if width >= 1280 else 1.0)
        self.speed = speed_px_s or 0.8 * width  # a view width in a little over a second
        self.dwell_s, self.use_defocus = dwell_s, defocus
        rng = np.random.default_rng(seed)
        cw, ch = (round(v * canvas_factor * self.scale) for v in self.size)
        n = n_wbc if n_wbc is not None else max(1, round(wbc_per_view * canvas_factor ** 2))
        kinds = ["blast" if rng.random() < blast_fraction else ("lymphocyte", "neutrophil")[i % 2]
                 for i in range(n)]
        ppu = default_px_per_um(width, height) * self.scale
        self.canvas, self.truth, self.wbcs = paint_slide(cw, ch, rng, n, kinds, px_per_um=ppu)
        self._view = (round(width * self.scale), round(height * self.scale))  # in canvas pixels
        self._lamp, self._lamp_scale = _lamp_map(illumination or Illumination.random(rng),
                                                 gains, self._view)
        self._noise = _noise_tile(self._view, noise, rng) if noise > 0 else None
        self._noise_rng = np.random.default_rng(seed + 1)

    def describe(self) -> str:
        w, h = self.size
        return f"demo slide (seed {self.seed}, {w}x{h}, {self.fps:g} fps, {len(self.wbcs)} WBCs)"

    def _pan_path(self) -> PanPath:
        ch, cw = self.canvas.shape[:2]
        canvas = (
            max(round(cw / self.scale), self.size[0]),
            max(round(ch / self.scale), self.size[1]),
        )
        cells = [(c.center[0] / self.scale, c.center[1] / self.scale) for c in self.wbcs]
        targets = _stops_on_cells(grid_points(canvas, self.size, VIEW_STEP), cells,
                                  VIEW_STEP * min(self.size) / 2)
        return PanPath(canvas, self.size, targets, fps=self.fps, speed_px_s=self.speed,
                       dwell_s=self.dwell_s, defocus=self.use_defocus, seed=self.seed,
                       loop=self.loop)

    def _draw(self, state: PanState) -> View:
        """Crop, defocus, light and add noise at canvas resolution, then one upscale."""
        s = self.scale
        cw, ch = self._view
        x0 = min(round(state.x * s), self.canvas.shape[1] - cw)
        y0 = min(round(state.y * s), self.canvas.shape[0] - ch)
        region = (slice(y0, y0 + ch), slice(x0, x0 + cw))
        patch = cv2.multiply(defocus(self.canvas[region], state.defocus * s), self._lamp,
                             scale=self._lamp_scale)
        if self._noise is not None:
            dy, dx = self._noise_rng.integers(0, 32, 2)
            noisy = cv2.add(patch, self._noise[dy:dy + ch, dx:dx + cw])
            patch = cv2.subtract(noisy, (8, 8, 8, 0))  # type: ignore[call-overload]  # cv2 stubs lack scalars
        image = _resize(patch, self.size, cv2.INTER_LINEAR)
        truth = _resize(self.truth[region], self.size, cv2.INTER_NEAREST)
        kinds = tuple(c.kind for c in self.wbcs
                      if x0 <= c.center[0] < x0 + cw and y0 <= c.center[1] < y0 + ch)
        return View(np.ascontiguousarray(image), truth, None, {"wbc_kinds": kinds})


def _stops_on_cells(
    stops: list[tuple[float, float]], cells: list[tuple[float, float]], reach: float
) -> list[tuple[float, float]]:
    """Each stop moved onto the nearest white cell within ``reach`` (a person centres a cell),
    else kept; a cell serves one stop only."""
    out, used = [], set()
    for x, y in stops:
        near = [(np.hypot(cx - x, cy - y), i) for i, (cx, cy) in enumerate(cells) if i not in used]
        distance, index = min(near, default=(np.inf, -1))
        if distance <= reach:
            used.add(index)
            out.append(cells[index])
        else:
            out.append((x, y))
    return out


def _resize(patch: np.ndarray, size: tuple[int, int], interpolation: int) -> np.ndarray:
    """A new C-contiguous array of ``size`` (a copy when no scaling is needed)."""
    if patch.shape[1] == size[0] and patch.shape[0] == size[1]:
        return np.ascontiguousarray(patch) if patch.base is None else patch.copy()
    return cv2.resize(patch, size, interpolation=interpolation)


def _lamp_map(
    light: Illumination, gains: tuple[float, float, float] | None, size: tuple[int, int]
) -> tuple[np.ndarray, float]:
    """The lamp as a uint8 map and a scale, so lighting a frame is one saturating multiply."""
    lamp = light.map(*size)
    if gains is not None:
        lamp = lamp * np.asarray(gains, dtype=np.float32)
    top = max(float(lamp.max()), 1e-6)
    return np.clip(lamp * (255.0 / top) + 0.5, 0, 255).astype(np.uint8), top / 255.0


def _noise_tile(size: tuple[int, int], sigma: float, rng: np.random.Generator) -> np.ndarray:
    """Sensor noise around +8 (undone by a subtraction), read at a random offset per frame."""
    w, h = size
    return np.clip(rng.normal(8.0, sigma, (h + 32, w + 32, 3)) + 0.5, 0, 16).astype(np.uint8)
