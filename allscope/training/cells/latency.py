"""Per-cell timing of the cell stages on real fields: detection, crops, classification.

Every stage is timed per field (the classifier runs one batch per field), and reported as
medians per field and per cell. Several packages (FP32 beside INT8) are timed in one
process on the same fields, so their ratio is fair.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.crops import cell_crops
from allscope.core.cells.detect import detect_cells
from allscope.core.mask.lab_kmeans import lab_kmeans_mask


def load_fields(folder: Path, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` images drawn (seeded) from the image files under ``folder``."""
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        raise FileNotFoundError(f"{folder}: no images to time on")
    rng = np.random.default_rng(seed)
    chosen = [
        files[i] for i in sorted(rng.choice(len(files), min(count, len(files)), replace=False))
    ]
    images = [cv2.imread(str(p), cv2.IMREAD_COLOR) for p in chosen]
    return [image for image in images if image is not None]


def time_cells(packages: dict[str, Path], fields: list[np.ndarray], repeats: int = 3) -> dict:
    """Medians (ms) per field and per cell of mask, detection, crops (the first package's) and
    each package's classification batch (of its own crops), over ``repeats`` passes."""
    classifiers = {name: CellClassifier(path) for name, path in packages.items()}
    size = next(iter(classifiers.values())).size
    crop = next(iter(classifiers.values())).crop
    stages: dict[str, list[float]] = {"mask": [], "detect": [], "crop": []}
    stages.update({f"classify {name}": [] for name in classifiers})
    cells_per_field: list[int] = []
    for _ in range(repeats):
        for field in fields:
            t0 = time.perf_counter()
            mask = lab_kmeans_mask(field)
            t1 = time.perf_counter()
            cells = detect_cells(field, mask)
            t2 = time.perf_counter()
            crops = cell_crops(field, cells, size, crop)
            t3 = time.perf_counter()
            if not cells:
                continue
            cells_per_field.append(len(cells))
            for key, ms in (("mask", t1 - t0), ("detect", t2 - t1), ("crop", t3 - t2)):
                stages[key].append(1000 * ms)
            for name, classifier in classifiers.items():
                own = crops
                if (classifier.size, classifier.crop) != (size, crop):
                    own = cell_crops(field, cells, classifier.size, classifier.crop)
                t = time.perf_counter()
                classifier.predict_crops(own)
                stages[f"classify {name}"].append(1000 * (time.perf_counter() - t))
    per_cell = {
        k: [v / n for v, n in zip(vals, cells_per_field, strict=True)] for k, vals in stages.items()
    }
    return {
        "fields": len(fields),
        "repeats": repeats,
        "median_cells_per_field": statistics.median(cells_per_field),
        "median_ms_per_field": {k: statistics.median(v) for k, v in stages.items()},
        "median_ms_per_cell": {k: statistics.median(v) for k, v in per_cell.items()},
    }
