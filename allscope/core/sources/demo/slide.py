"""A procedural peripheral blood smear: the demo source and the test-fixture generator.

``render_field`` paints one field with red cells (central pallor), platelets and white cells
of the requested kinds, lights it like a microscope (lamp colour, vignetting), and returns the
exact ground-truth WBC mask. Everything is drawn from scratch (see ``cells``); nothing is
copied from any data set. Nuclei are stained so that their LAB a-channel (8-bit OpenCV) lies
well above 141 while red cells and background lie below it, as in the smears the paper's
LAB K-means mask was designed for. ``paint_slide`` gives the unlit specimen for sources that
pre-render a large canvas once and pan across it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from allscope.core.sources.demo.cells import (
    KINDS,
    RBC_RADIUS_UM,
    WBC_RADIUS_UM,
    Stain,
    draw_wbc,
    platelet_templates,
    rbc_templates,
)

__all__ = ["KINDS", "DemoWbc", "Illumination", "Stain", "default_px_per_um", "paint_slide",
           "render_field"]


@dataclass(frozen=True, slots=True)
class DemoWbc:
    """Ground truth of one white cell: kind, centre (x, y), radius and truth-mask box/area."""

    kind: str
    center: tuple[float, float]
    radius: float
    bbox: tuple[int, int, int, int]  # x, y, width, height
    area: int


@dataclass(frozen=True, slots=True)
class Illumination:
    """The lamp and optics: per-channel colour (B, G, R), corner darkening, overall level."""

    gains: tuple[float, float, float] = (1.0, 1.0, 1.0)
    vignette: float = 0.12
    brightness: float = 1.0

    @classmethod
    def random(cls, rng: np.random.Generator, amount: float = 1.0) -> Illumination:
        """A lamp between cool LED and warm halogen, with moderate vignetting."""
        t = amount * rng.uniform(-1.0, 1.0)
        warm = (1 - 0.1 * t, 1 - 0.03 * t, 1.0) if t > 0 else (1.0, 1 + 0.02 * t, 1 + 0.07 * t)
        return cls(warm, float(rng.uniform(0.04, 0.18) * amount),
                   float(1 + amount * rng.uniform(-0.05, 0.02)))

    def map(self, width: int, height: int) -> np.ndarray:
        """Float32 (H, W, 3) transmission of the light path, 1.0 = full white."""
        xx = (np.arange(width, dtype=np.float32) - (width - 1) / 2) / (width / 2)
        yy = (np.arange(height, dtype=np.float32) - (height - 1) / 2) / (width / 2)
        r2 = xx[None, :] ** 2 + yy[:, None] ** 2
        fall = self.brightness * (1.0 - self.vignette * r2 / max(float(r2.max()), 1e-6))
        return fall[..., None] * np.asarray(self.gains, dtype=np.float32)


def default_px_per_um(width: int, height: int) -> float:
    """Scale at which a frame spans the field of view of a 224x224 training field.

    The paper scales its area limits (200 px objects, 250 px holes) by frame area relative
    to 224x224, i.e. it assumes that field of view; 3.3 px/µm at 224x224 (about 68 µm
    across) keeps even a small lymphocyte's nucleus well above the limit at any size.
    """
    return 3.3 * float(np.sqrt(width * height / (224.0 * 224.0)))


def render_field(
    width: int, height: int, seed: int = 0, n_wbc: int = 3,
    kinds: Sequence[str] = KINDS, stain: Stain | None = None,
    rng: np.random.Generator | None = None, *,
    px_per_um: float | None = None, illumination: Illumination | None = None,
    blur: float = 0.0, noise: float = 2.0, gains: tuple[float, float, float] | None = None,
    cast: tuple[float, float, float] | None = None, truth: str = "cell",
) -> tuple[np.ndarray, np.ndarray, list[DemoWbc]]:
    """One lit field: (BGR uint8, truth mask uint8 0/255, white cells).

    White cells cycle through ``kinds`` (``("blast",)`` gives only blasts). ``stain`` and
    ``illumination`` default to a random slide-to-slide variation. Camera faults for
    quality and calibration tests: ``blur`` (Gaussian sigma, px), ``noise`` (std, 8-bit
    units), ``gains`` (B, G, R white-balance error, multiplicative) and ``cast`` (B, G, R
    offset). ``truth`` is "cell" (nucleus and cytoplasm) or "nucleus".
    """
    rng = rng if rng is not None else np.random.default_rng(seed)
    stain = stain if stain is not None else Stain().varied(rng)
    illumination = illumination if illumination is not None else Illumination.random(rng)
    specimen, mask, wbcs = paint_slide(width, height, rng, n_wbc, kinds, stain,
                                       px_per_um=px_per_um, truth=truth, as_float=True)
    image = specimen * illumination.map(width, height) * 255.0
    if blur > 0:
        image = cv2.GaussianBlur(image, (0, 0), blur)
    if gains is not None:
        image *= np.asarray(gains, dtype=np.float32)
    if cast is not None:
        image += np.asarray(cast, dtype=np.float32)
    if noise > 0:
        image += rng.normal(0.0, noise, image.shape).astype(np.float32)
    return np.ascontiguousarray(np.clip(image + 0.5, 0, 255).astype(np.uint8)), mask, wbcs


def paint_slide(
    width: int, height: int, rng: np.random.Generator, n_wbc: int,
    kinds: Sequence[str] = KINDS, stain: Stain | None = None, *,
    px_per_um: float | None = None, truth: str = "cell", as_float: bool = False,
) -> tuple[np.ndarray, np.ndarray, list[DemoWbc]]:
    """The specimen under uniform white light: (transmission, truth mask, white cells).

    Transmission is uint8 BGR (or float32 in [0, 1] with ``as_float``), blurred by the
    objective's point spread; the truth mask is exact (drawn outlines, before any blur).
    """
    if truth not in ("cell", "nucleus"):
        raise ValueError(f"truth must be 'cell' or 'nucleus', got {truth!r}")
    if n_wbc and not kinds:
        raise ValueError("kinds is empty: name at least one white cell kind")
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown white cell kind(s) {unknown}; choose from {', '.join(KINDS)}")
    stain = stain if stain is not None else Stain()
    ppu = float(px_per_um) if px_per_um else default_px_per_um(width, height)
    cells = [kinds[i % len(kinds)] for i in range(n_wbc)]
    radii = [rng.uniform(*WBC_RADIUS_UM[k]) * ppu for k in cells]
    centres = _place_wbcs(width, height, radii, ppu, rng)
    od = np.empty((height, width, 3), np.float32)
    od[:] = stain.background
    _scatter_rbcs(od, centres, radii, stain, ppu, rng)
    mask = np.zeros((height, width), np.uint8)
    wbcs = [_paste_wbc(od, mask, k, c, r, ppu, stain, rng, truth)
            for k, c, r in zip(cells, centres, radii, strict=False)]
    sigma = 0.08 * ppu
    transmission = cv2.GaussianBlur(np.exp(-od), (0, 0), sigma) if sigma >= 0.3 else np.exp(-od)
    if as_float:
        return transmission, mask, wbcs
    return np.clip(transmission * 255.0 + 0.5, 0, 255).astype(np.uint8), mask, wbcs


def _place_wbcs(
    width: int, height: int, radii: Sequence[float], ppu: float, rng: np.random.Generator
) -> list[tuple[float, float]]:
    """Random non-touching positions with every white cell wholly inside the field."""
    centres: list[tuple[float, float]] = [(0.0, 0.0)] * len(radii)
    placed: list[tuple[float, float, float]] = []
    for i in sorted(range(len(radii)), key=lambda i: -radii[i]):  # biggest first
        spot = _free_spot(width, height, radii[i], placed, ppu, rng)
        if spot is None:
            raise ValueError(
                f"cannot fit {len(radii)} white cells into a {width}x{height} field at "
                f"{ppu:.1f} px/µm; use a larger field, fewer cells or a smaller px_per_um")
        centres[i] = spot
        placed.append((*spot, radii[i]))
    return centres


def _free_spot(
    width: int, height: int, r: float, placed: list[tuple[float, float, float]], ppu: float,
    rng: np.random.Generator,
) -> tuple[float, float] | None:
    m = 1.15 * r + 2
    if width <= 2 * m or height <= 2 * m:
        return None
    for _ in range(500):
        x, y = rng.uniform(m, width - m), rng.uniform(m, height - m)
        if all(np.hypot(x - px, y - py) > r + pr + 2 * ppu for px, py, pr in placed):
            return float(x), float(y)
    return None


def _add(canvas: np.ndarray, patch: np.ndarray, cx: float, cy: float) -> tuple[Any, ...] | None:
    """Slices (canvas, patch) where a patch centred at (cx, cy) overlaps the canvas."""
    ph, pw = patch.shape[:2]
    x0, y0 = int(round(cx)) - pw // 2, int(round(cy)) - ph // 2
    cx0, cy0 = max(x0, 0), max(y0, 0)
    cx1, cy1 = min(x0 + pw, canvas.shape[1]), min(y0 + ph, canvas.shape[0])
    if cx1 <= cx0 or cy1 <= cy0:
        return None
    return (slice(cy0, cy1), slice(cx0, cx1)), (
        slice(cy0 - y0, cy1 - y0),
        slice(cx0 - x0, cx1 - x0),
    )


def _scatter_rbcs(
    od: np.ndarray, centres: Sequence[tuple[float, float]], radii: Sequence[float], stain: Stain,
    ppu: float, rng: np.random.Generator,
) -> None:
    """A monolayer of red cells on a jittered hexagonal grid, pushed aside by white cells."""
    h, w = od.shape[:2]
    r = RBC_RADIUS_UM * ppu
    rbcs, plts = rbc_templates(r, rng), platelet_templates(ppu, rng)
    step = 2.2 * r
    for row, y in enumerate(np.arange(-r, h + r, step * 0.866)):
        for x in np.arange(-r + (row % 2) * step / 2, w + r, step):
            x1, y1 = x + rng.normal(0, 0.04 * step), y + rng.normal(0, 0.04 * step)
            if rng.random() < 0.1 or any(np.hypot(x1 - cx, y1 - cy) < cr + 0.6 * r
                                         for (cx, cy), cr in zip(centres, radii, strict=False)):
                continue
            _add_thickness(od, rbcs[rng.integers(len(rbcs))], stain.rbc, x1, y1)
            if rng.random() < 0.08:  # platelets lie between the red cells
                _add_thickness(od, plts[rng.integers(len(plts))], stain.platelet,
                               x1 + step / 2, y1 + step * 0.43)


def _add_thickness(
    od: np.ndarray, thickness: np.ndarray, colour: np.ndarray, cx: float, cy: float
) -> None:
    where = _add(od, thickness, cx, cy)
    if where is not None:
        od[where[0]] += thickness[where[1]][..., None] * colour


def _paste_wbc(
    od: np.ndarray, mask: np.ndarray, kind: str, centre: tuple[float, float], radius: float,
    ppu: float, stain: Stain, rng: np.random.Generator, truth: str,
) -> DemoWbc:
    patch = draw_wbc(kind, radius, ppu, stain, rng)
    placed = _add(od, patch.od, *centre)
    assert placed is not None, "white cells are placed inside the slide"
    canvas_sl, patch_sl = placed
    cover = patch.coverage[patch_sl][..., None]
    od[canvas_sl] = od[canvas_sl] * (1 - cover) + stain.background * cover + patch.od[patch_sl]
    cell = (patch.cell if truth == "cell" else patch.nucleus)[patch_sl]
    mask[canvas_sl][cell] = 255
    ys, xs = np.nonzero(cell)
    bbox = (canvas_sl[1].start + int(xs.min()), canvas_sl[0].start + int(ys.min()),
            int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    return DemoWbc(kind, (float(centre[0]), float(centre[1])), float(radius), bbox,
                   int(np.count_nonzero(cell)))
