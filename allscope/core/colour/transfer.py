"""Colour transfer as one 3×4 affine BGR matrix: per-channel gains, or Reinhard's transfer in
L*a*b* on background and cells separately, fitted by least squares on a small copy of a view.

One matrix keeps the full-frame cost to a single ``cv2.transform``; fitting happens rarely.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from allscope.core.colour.target import (
    ColourTarget,
    RegionStats,
    lab_to_bgr,
    region_stats,
    split_regions,
    to_lab,
)

MIN_REGION_CONTRAST = 15.0  # ΔE*ab between the two regions below which no stained cells show
MAX_STD_RATIO = 2.0  # Reinhard's contrast change is limited to this factor either way


def glass_colour(small_bgr: np.ndarray) -> np.ndarray:
    """Mean BGR of the brightest tenth of the view: bare, lit glass between the cells."""
    grey = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2GRAY)
    return small_bgr[grey >= np.percentile(grey, 90)].reshape(-1, 3).mean(0)


def delta_e(lab1: Sequence[float], lab2: Sequence[float]) -> float:
    """CIE76 colour distance ΔE*ab."""
    return float(np.linalg.norm(np.asarray(lab1, np.float64) - np.asarray(lab2, np.float64)))


def gains_matrix(
    source_bgr: Sequence[float] | np.ndarray, target_bgr: Sequence[float] | np.ndarray
) -> np.ndarray:
    """3×4 matrix of per-channel gains mapping one colour onto another."""
    gains = np.asarray(target_bgr, np.float64) / np.maximum(np.asarray(source_bgr, np.float64), 1.0)
    return np.hstack([np.diag(gains), np.zeros((3, 1))])


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """The 3×4 affine map applying ``inner`` then ``outer``."""
    return outer[:, :3] @ inner + np.hstack([np.zeros((3, 3)), outer[:, 3:]])


def apply_matrix(bgr: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    return cv2.transform(bgr, matrix.astype(np.float32))


def _reinhard_points(lab: np.ndarray, bgr: np.ndarray, region: np.ndarray, source: RegionStats,
                     target: RegionStats, samples: int) -> tuple[np.ndarray, np.ndarray]:
    """(source BGR, Reinhard-mapped BGR) for up to ``samples`` pixels of one region."""
    index = np.flatnonzero(region)
    index = index[:: max(1, len(index) // samples)]
    lab, bgr = lab.reshape(-1, 3)[index], bgr.reshape(-1, 3)[index]
    ratio = np.clip(
        np.asarray(target.std) / np.maximum(np.asarray(source.std), 1e-3), 1 / MAX_STD_RATIO,
        MAX_STD_RATIO,
    )
    mapped = (lab - np.asarray(source.mean)) * ratio + np.asarray(target.mean)
    return bgr.astype(np.float64), lab_to_bgr(mapped.reshape(-1, 1, 3)).reshape(-1, 3).astype(
        np.float64
    )


def colour_matrix(small_bgr: np.ndarray, target: ColourTarget, strength: float = 1.0,
                  samples: int = 1000) -> np.ndarray:
    """3×4 affine BGR map toward ``target``: ``strength`` × Reinhard transfer (background and
    cells separately, equal weight, least squares) + (1 - ``strength``) × background gains.
    With no stained cells in view, gains carrying the whole view onto the target background."""
    lab = to_lab(small_bgr)
    regions = split_regions(lab)
    stats = [region_stats(lab, region) for region in regions]
    background, cells = stats
    if (
        background is None
        or cells is None
        or delta_e(background.mean, cells.mean) < MIN_REGION_CONTRAST
    ):
        return gains_matrix(small_bgr.reshape(-1, 3).mean(0), background_bgr(target))
    gains = gains_matrix(
        cv2.mean(small_bgr, mask=regions[0].view(np.uint8))[:3], background_bgr(target)
    )
    if strength <= 0.0:
        return gains
    sources, targets = zip(
        *(
            _reinhard_points(lab, small_bgr, region, source, goal, samples)
            for region, source, goal in zip(
                regions, (background, cells), (target.background, target.cells), strict=True
            )
        ),
        strict=False,
    )
    x = np.hstack([np.vstack(sources), np.ones((sum(len(s) for s in sources), 1))])
    solution, *_ = np.linalg.lstsq(x, np.vstack(targets), rcond=None)
    return strength * solution.T + (1.0 - strength) * gains


def background_bgr(target: ColourTarget) -> np.ndarray:
    return _bgr_of(target.background.mean)


def glass_bgr(target: ColourTarget) -> np.ndarray:
    """BGR of the target's bare glass (its background mean for targets without it)."""
    return _bgr_of(target.glass if target.glass is not None else target.background.mean)


def _bgr_of(lab: Sequence[float]) -> np.ndarray:
    return np.clip(lab_to_bgr(np.asarray(lab, np.float32).reshape(1, 1, 3)).reshape(3), 1, 255)
