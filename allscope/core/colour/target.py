"""The training data's colour, as statistics: what frames are normalised toward.

A field splits into background (the bright class of an Otsu split of lightness) and stained
cells (the dark class). Each region's colour is summarised by its mean and standard deviation
in CIE L*a*b* (L 0-100, a/b about -128..127). ``resources/colour_target.json`` holds these
for the B-ALL training fields (derived statistics, no image data), made by
``allscope trust colour-target``; the burned-in scale bar corner is left out.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from allscope.paths import resources_dir

COLOUR_TARGET_PATH = resources_dir() / "colour_target.json"
MIN_REGION_PIXELS = 50


def as_triple(values: Any) -> tuple[float, float, float]:
    """Three floats (an L*a*b* or BGR vector) from any sequence of three numbers."""
    a, b, c = (float(v) for v in values)
    return a, b, c


@dataclass(frozen=True)
class RegionStats:
    mean: tuple[float, float, float]  # L*, a*, b*
    std: tuple[float, float, float]


@dataclass(frozen=True)
class ColourTarget:
    """Background and cell colour statistics of a reference set of fields."""

    background: RegionStats
    cells: RegionStats
    source: str = ""
    fields: int = 0
    glass: tuple[float, float, float] | None = None  # L*a*b* of the brightest tenth (bare glass)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColourTarget:
        try:
            regions = {
                k: RegionStats(
                    as_triple(data[k]["mean"]), as_triple(data[k]["std"])
                )
                for k in ("background", "cells")
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"colour target needs background and cells with mean and std ({exc})"
            ) from exc
        glass = as_triple(data["glass"]) if data.get("glass") is not None else None
        return cls(regions["background"], regions["cells"], str(data.get("source", "")),
                   int(data.get("fields", 0)), glass)


def load_colour_target(path: str | Path = COLOUR_TARGET_PATH) -> ColourTarget:
    path = Path(path)
    try:
        return ColourTarget.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise FileNotFoundError(
            f"{path}: colour target missing; run `allscope trust colour-target`."
        ) from exc


def to_lab(bgr: np.ndarray) -> np.ndarray:
    """Float32 L*a*b* of a uint8 BGR image."""
    return cv2.cvtColor(bgr.astype(np.float32) * (1.0 / 255.0), cv2.COLOR_BGR2Lab)


def lab_to_bgr(lab: np.ndarray) -> np.ndarray:
    """Float BGR on the 0-255 scale (not clipped) of float L*a*b*."""
    return cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2BGR) * 255.0


def split_regions(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(background, cells) boolean masks: Otsu's split of lightness, bright vs dark."""
    lightness = np.clip(lab[..., 0] * 2.55, 0, 255).astype(np.uint8)
    level, _ = cv2.threshold(lightness, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    background = lightness > level
    return background, ~background


def region_stats(lab: np.ndarray, region: np.ndarray) -> RegionStats | None:
    """Mean and std of a region's L*a*b* pixels; None when it is too small to say."""
    mask = region.view(np.uint8) if region.dtype == np.bool_ else region
    if cv2.countNonZero(mask) < MIN_REGION_PIXELS:
        return None
    mean, std = cv2.meanStdDev(lab, mask=mask)
    return RegionStats(as_triple(mean.ravel()), as_triple(std.ravel()))


def field_pixels(
    bgr: np.ndarray, exclude_corner: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(background, cell, glass) L*a*b* pixels of one field; optionally without the scale-bar
    corner. Glass is the brightest tenth of the field by lightness."""
    lab = to_lab(bgr)
    background, cells = split_regions(lab)
    keep = np.ones_like(background)
    if exclude_corner:
        h, w = background.shape
        keep[int(h * 0.85):, int(w * 0.7):] = False
    glass = keep & (lab[..., 0] >= np.percentile(lab[..., 0][keep], 90))
    return lab[background & keep], lab[cells & keep], lab[glass]


def target_from_fields(fields_by_group: dict[str, list[np.ndarray]], source: str) -> ColourTarget:
    """Target statistics with each group (class) weighted equally, so no class's stain dominates."""
    stats: dict[str, tuple[list[Any], list[Any]]] = {
        "background": ([], []), "cells": ([], []), "glass": ([], []),
    }
    count = 0
    for images in fields_by_group.values():
        pixels = [field_pixels(image, exclude_corner=True) for image in images]
        count += len(images)
        for index, name in enumerate(("background", "cells", "glass")):
            region = np.concatenate([p[index] for p in pixels])
            stats[name][0].append(region.mean(0))
            stats[name][1].append(region.var(0) + region.mean(0) ** 2)
    regions = {}
    for name, (means, second) in stats.items():
        mean = np.mean(means, axis=0)
        std = np.sqrt(np.maximum(np.mean(second, axis=0) - mean**2, 0.0))
        regions[name] = RegionStats(as_triple(mean), as_triple(std))
    return ColourTarget(
        regions["background"], regions["cells"], source, count, regions["glass"].mean
    )
