"""Single blood cells for the demo slide, drawn from scratch as optical-density patches.

Light through a stained smear obeys Beer-Lambert: each component adds optical density
(OD = -ln transmission) per channel. Cells are therefore drawn as OD patches that add up,
so overlaps darken naturally and one stain change recolours every cell consistently.
Each white cell also returns exact coverage masks, which become the ground truth.
Sizes follow the haematology atlas: RBC 7.5 µm, lymphocyte 7-10 µm, neutrophil 12 µm,
blast 12-18 µm; a blast's nucleus fills most of the cell (high N:C ratio).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

KINDS = ("blast", "lymphocyte", "neutrophil")
# a nucleus drawing: (nucleus coverage, chromatin optical density, cytoplasm optical density)
Nucleus = tuple[np.ndarray, np.ndarray, np.ndarray]
RBC_RADIUS_UM = 3.75
WBC_RADIUS_UM = {"blast": (6.0, 8.5), "lymphocyte": (4.0, 5.0), "neutrophil": (5.5, 6.5)}


def _od(rgb: tuple[int, int, int]) -> np.ndarray:
    """Optical density (B, G, R) of a colour seen on white light, per unit thickness."""
    return -np.log(np.array(rgb[::-1], dtype=np.float32) / 255.0)


def _stained(rgb: tuple[int, int, int]) -> Any:
    return field(default_factory=lambda: _od(rgb))


@dataclass(frozen=True, slots=True)
class Stain:
    """Optical densities of the stained components (B, G, R order, float32 arrays)."""

    background: np.ndarray = _stained((247, 242, 240))
    rbc: np.ndarray = _stained((231, 205, 201))
    nucleus_dense: np.ndarray = _stained((80, 45, 120))
    nucleus_lobed: np.ndarray = _stained((105, 55, 140))
    nucleus_blast: np.ndarray = _stained((120, 100, 190))  # a blast's fine blue-violet chromatin
    nucleolus: np.ndarray = _stained((172, 158, 196))
    cytoplasm_blue: np.ndarray = _stained((130, 160, 205))
    cytoplasm_pale: np.ndarray = _stained((215, 180, 210))
    granule: np.ndarray = _stained((190, 140, 185))
    platelet: np.ndarray = _stained((135, 85, 165))

    def varied(self, rng: np.random.Generator, amount: float = 1.0) -> Stain:
        """The same stain with a slide-to-slide change in intensity and hue balance."""
        strength = 1.0 + amount * rng.uniform(-0.12, 0.12)
        values = {}
        for name in self.__dataclass_fields__:
            tint = 1.0 + amount * rng.uniform(-0.05, 0.05, 3).astype(np.float32)
            values[name] = (getattr(self, name) * strength * tint).astype(np.float32)
        return Stain(**values)


@dataclass(frozen=True, slots=True)
class CellPatch:
    """OD patch centred on the cell, with exact boolean masks of the whole cell and nucleus."""

    od: np.ndarray  # float32 (s, s, 3)
    coverage: np.ndarray  # float32 (s, s) in [0, 1], used to push the background aside
    cell: np.ndarray  # bool (s, s)
    nucleus: np.ndarray  # bool (s, s)


def _grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    c = (size - 1) / 2.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    return xx - c, yy - c


_ANGLES = np.linspace(-np.pi, np.pi, 4097, dtype=np.float32)  # a table of the outline


def _wobble(theta: np.ndarray, rng: np.random.Generator, amount: float) -> np.ndarray:
    """1 + a few low harmonics of the angle: an organic, slightly irregular outline.

    The harmonics are evaluated on a fine table of angles and looked up per pixel, which
    costs one index instead of four cosines per pixel (the slide paints quickly)."""
    table = np.ones_like(_ANGLES)
    for k in range(2, 6):
        table += amount / k * rng.uniform(-1, 1) * np.cos(k * _ANGLES + rng.uniform(0, 2 * np.pi))
    index = np.rint((theta + np.pi) * ((len(_ANGLES) - 1) / (2 * np.pi))).astype(np.intp)
    return table[np.clip(index, 0, len(_ANGLES) - 1)]


def _blob(
    xx: np.ndarray, yy: np.ndarray, radius: float, rng: np.random.Generator, wobble: float = 0.06,
    aspect: float = 1.0, angle: float = 0.0, edge: float = 1.2,
) -> np.ndarray:
    """Soft coverage (0..1) of an irregular ellipse; coverage 0.5 is the exact outline."""
    ca, sa = np.cos(angle), np.sin(angle)
    u, v = xx * ca + yy * sa, (-xx * sa + yy * ca) / aspect
    r = np.hypot(u, v)
    outline = radius * _wobble(np.arctan2(v, u), rng, wobble)
    return np.clip(0.5 + (outline - r) / edge, 0.0, 1.0)


def _texture(shape: tuple[int, int], sigma_px: float, rng: np.random.Generator) -> np.ndarray:
    """Smooth random texture with zero mean and unit spread at the given grain size."""
    t = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), max(sigma_px, 0.3))
    return t / (t.std() + 1e-6)


def _segment_distance(
    xx: np.ndarray, yy: np.ndarray, a: tuple[float, float], b: tuple[float, float]
) -> np.ndarray:
    ab = np.subtract(b, a)
    t = np.clip(((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / max(float(ab @ ab), 1e-6), 0, 1)
    return np.hypot(xx - a[0] - t * ab[0], yy - a[1] - t * ab[1])


def draw_wbc(kind: str, radius: float, px_per_um: float, stain: Stain,
             rng: np.random.Generator) -> CellPatch:
    """One white cell of ``kind`` with cell radius ``radius`` pixels."""
    if kind not in KINDS:
        raise ValueError(f"unknown white cell kind {kind!r}; choose from {', '.join(KINDS)}")
    size = 2 * int(np.ceil(radius * 1.15)) + 3
    xx, yy = _grid(size)
    cyto = _blob(xx, yy, radius, rng, wobble=0.05, aspect=rng.uniform(0.9, 1.0),
                 angle=rng.uniform(0, np.pi))
    nucleus, chromatin, cyto_od = _NUCLEI[kind](xx, yy, radius, px_per_um, stain, rng)
    nucleus = np.minimum(nucleus, cyto)
    od = (cyto * (1 - nucleus))[..., None] * cyto_od + nucleus[..., None] * chromatin
    return CellPatch(od.astype(np.float32), np.maximum(cyto, nucleus),
                     (cyto >= 0.5) | (nucleus >= 0.5), nucleus >= 0.5)


def _lymphocyte(xx: np.ndarray, yy: np.ndarray, radius: float, ppu: float, stain: Stain,
                rng: np.random.Generator) -> Nucleus:
    """A small mature lymphocyte: a round, slightly eccentric nucleus of coarsely clumped dense
    chromatin, and a crescent of pale blue cytoplasm on one side."""
    angle = rng.uniform(0, 2 * np.pi)
    off = 0.12 * radius * np.array([np.cos(angle), np.sin(angle)])
    nuc = _blob(xx - off[0], yy - off[1], radius * rng.uniform(0.78, 0.84), rng, wobble=0.05)
    clumps = 1.0 + 0.35 * _texture(xx.shape, 0.3 * ppu, rng)
    chromatin = clumps[..., None] * stain.nucleus_dense
    cyto_od = stain.cytoplasm_blue * 0.7  # pale sky-blue crescent
    return nuc, chromatin, cyto_od


def _neutrophil(xx: np.ndarray, yy: np.ndarray, radius: float, ppu: float, stain: Stain,
                rng: np.random.Generator) -> Nucleus:
    lobes = int(rng.integers(3, 6))
    start, step = rng.uniform(0, 2 * np.pi), np.deg2rad(rng.uniform(55, 75))
    centres = [(0.45 * radius * np.cos(start + i * step), 0.45 * radius * np.sin(start + i * step))
               for i in range(lobes)]
    nuc = np.zeros_like(xx)
    for cx, cy in centres:
        lobe = _blob(xx - cx, yy - cy, radius * rng.uniform(0.26, 0.32), rng, wobble=0.08,
                     aspect=rng.uniform(0.7, 0.9), angle=rng.uniform(0, np.pi))
        nuc = np.maximum(nuc, lobe)
    for a, b in zip(centres, centres[1:], strict=False):  # thin chromatin strands between lobes
        strand = np.clip(0.5 + (0.06 * radius - _segment_distance(xx, yy, a, b)) / 1.2, 0, 1)
        nuc = np.maximum(nuc, strand)
    chromatin = (1.0 + 0.15 * _texture(xx.shape, 0.4 * ppu, rng))[..., None] * stain.nucleus_lobed
    granules = 1.0 + 0.25 * _texture(xx.shape, 0.15 * ppu, rng)
    cyto_od = granules[..., None] * stain.cytoplasm_pale
    return nuc, chromatin, cyto_od


def _blast(xx: np.ndarray, yy: np.ndarray, radius: float, ppu: float, stain: Stain,
           rng: np.random.Generator) -> Nucleus:
    """A lymphoblast as in B-ALL (FAB L1/L2): the nucleus fills almost the whole cell (a very
    high N:C ratio, only a thin faint rim of basophilic cytoplasm), its chromatin fine and
    homogeneous, blue-violet, with at most two inconspicuous nucleoli; a soft outline."""
    off = rng.uniform(-0.03, 0.03, 2) * radius
    nuc = _blob(xx - off[0], yy - off[1], radius * rng.uniform(0.92, 0.96), rng, wobble=0.05,
                aspect=rng.uniform(0.9, 1.0), angle=rng.uniform(0, np.pi), edge=2.0)
    fine = 1.0 + 0.03 * _texture(xx.shape, 0.25 * ppu, rng)
    nucleoli = np.zeros_like(xx)
    for _ in range(int(rng.integers(0, 3))):
        c = rng.uniform(-0.35, 0.35, 2) * radius
        r = rng.uniform(0.5, 0.8) * ppu
        nucleoli = np.maximum(nucleoli, _blob(xx - c[0], yy - c[1], r, rng, wobble=0.1, edge=2.0))
    nucleoli *= 0.35  # inconspicuous: a slightly paler spot, not a hole
    chromatin = ((1 - nucleoli) * fine)[..., None] * stain.nucleus_blast \
        + nucleoli[..., None] * stain.nucleolus
    return nuc, chromatin, stain.cytoplasm_blue * 0.35


_NUCLEI = {"blast": _blast, "lymphocyte": _lymphocyte, "neutrophil": _neutrophil}


def rbc_templates(radius: float, rng: np.random.Generator, n: int = 8) -> list[np.ndarray]:
    """Relative thickness maps of red cells: a disc with a thick rim and a pale centre."""
    out = []
    for _ in range(n):
        r = radius * rng.uniform(0.92, 1.08)
        size = 2 * int(np.ceil(r * 1.1)) + 3
        xx, yy = _grid(size)
        disc = _blob(xx, yy, r, rng, wobble=0.04, aspect=rng.uniform(0.9, 1.0),
                     angle=rng.uniform(0, np.pi), edge=1.5)
        pallor = rng.uniform(0.45, 0.6) * np.exp(-(np.hypot(xx, yy) / (0.5 * r)) ** 2)
        out.append((disc * (1.0 - pallor)).astype(np.float32))
    return out


def platelet_templates(px_per_um: float, rng: np.random.Generator, n: int = 6) -> list[np.ndarray]:
    """Relative thickness maps of platelets: small granular irregular fragments, 2-3 µm."""
    out = []
    for _ in range(n):
        r = rng.uniform(0.9, 1.4) * px_per_um
        size = 2 * int(np.ceil(r * 1.3)) + 3
        xx, yy = _grid(size)
        blob = _blob(xx, yy, r, rng, wobble=0.2, aspect=rng.uniform(0.6, 1.0),
                     angle=rng.uniform(0, np.pi))
        grain = np.clip(1.0 + 0.3 * _texture(xx.shape, 0.2 * px_per_um, rng), 0.3, 2.0)
        out.append((blob * grain).astype(np.float32))
    return out
