"""Cell stages timed side by side with the field-only pipeline, in one process.

``cell_stage_timings``: detection, crops and classification per field (one batch of all its
cells) and per cell, at the three frame sizes of the field stages, on rendered fields whose
white cells are known; ``single_crop_ms`` times one crop per inference for comparison.
``analyze_rates``: ``allscope analyze``'s engine on a folder, fields per second with and
without cells, alternated so that machine load hits both alike.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from allscope.bench.timing import summary, time_ms
from allscope.core.batch import BatchAnalyzer
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.crops import cell_crops
from allscope.core.cells.detect import detect_cells
from allscope.core.classifier import Classifier
from allscope.core.mask.lab_kmeans import lab_kmeans_mask

SIZES = ((224, 224), (640, 480), (1920, 1080))
CELLS = {(224, 224): 2, (640, 480): 6, (1920, 1080): 12}  # white cells drawn per field


def cell_stage_timings(classifier: CellClassifier, repeats: int) -> dict[str, Any]:
    """Per size: milliseconds per field and per cell of detection, crops and classification."""
    from allscope.core.sources.demo.slide import render_field

    out: dict[str, Any] = {}
    for width, height in SIZES:
        bgr = render_field(width, height, seed=11, n_wbc=CELLS[(width, height)])[0]
        mask = lab_kmeans_mask(bgr)
        cells = detect_cells(bgr, mask)
        n = max(1, len(cells))
        crops = cell_crops(bgr, cells, classifier.size, classifier.crop)
        stages = {
            "detect": time_ms(partial(detect_cells, bgr, mask), repeats),
            "crop": time_ms(
                partial(cell_crops, bgr, cells, classifier.size, classifier.crop), repeats
            ),
            "classify": time_ms(partial(classifier.predict_crops, crops), repeats),
        }
        total = [sum(parts) for parts in zip(*stages.values(), strict=True)]
        entry: dict[str, Any] = {"cells": len(cells)}
        for name, samples in (*stages.items(), ("total", total)):
            field = summary(samples)
            entry[name] = {
                "per_field": field,
                "per_cell_median_ms": round(field["median_ms"] / n, 3),
            }
        single = time_ms(partial(classifier.predict_crops, crops[:1]), repeats)
        entry["classify_one_crop_per_inference"] = summary(single)
        out[f"{width}x{height}"] = entry
    return out


def analyze_rates(
    folder: Path, classifier: Classifier | None, cells: CellClassifier, rounds: int = 2
) -> dict[str, Any]:
    """Fields per second of batch analysis with and without cells (alternating rounds)."""
    rates: dict[str, list[float]] = {"fields_only": [], "with_cells": []}
    fields = 0
    for _ in range(rounds):
        for name, cell_model in (("fields_only", None), ("with_cells", cells)):
            analyzer = BatchAnalyzer(classifier, cell_classifier=cell_model)
            started = time.perf_counter()
            report = analyzer.run([folder])
            rates[name].append(report.analysed / (time.perf_counter() - started))
            fields = report.analysed
    medians = {k: round(float(np.median(v)), 1) for k, v in rates.items()}
    return {
        "fields": fields,
        "rounds": rounds,
        "fields_per_s": medians,
        "with_cells_over_fields_only": round(
            medians["with_cells"] / max(medians["fields_only"], 1e-9), 3
        ),
    }
