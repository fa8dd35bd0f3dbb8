"""Cell stages timed side by side with the field-only pipeline, in one process.

``cell_stage_timings``: detection, crops and classification per field (one batch of all its
cells) and per cell, at the three frame sizes of the field stages, on rendered fields whose
white cells are known, along the path ``judge_cells`` takes (large cells found and cut on a
reduced copy, ``working_scale``); ``single_crop_ms`` times one crop per inference for
comparison. ``model_sizes``: ms per cell of the package's model at its own input size and at
smaller ones, in fixed and dynamic batches; ``varying_fields``: the same per field of 1 to 16
cells. ``analyze_rates``: ``allscope analyze``'s engine
on a folder, fields per second with and without cells, alternated so that machine load hits
both alike.
"""

from __future__ import annotations

import dataclasses
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import openvino as ov

from allscope.bench.timing import summary, time_ms
from allscope.core.batch import BatchAnalyzer
from allscope.core.cells.batching import FixedBatches
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.crops import cell_crops
from allscope.core.cells.detect import detect_cells
from allscope.core.cells.resolution import reduced, working_scale
from allscope.core.classifier import Classifier
from allscope.core.ir import with_preprocessing
from allscope.core.mask.lab_kmeans import lab_kmeans_mask

SIZES = ((224, 224), (640, 480), (1920, 1080))
CELLS = {(224, 224): 2, (640, 480): 6, (1920, 1080): 12}  # white cells drawn per field
INPUT_SIZES = (48, 40)  # smaller model inputs timed beside the package's own


def _detect(classifier: CellClassifier, bgr: np.ndarray, mask: Any) -> tuple[np.ndarray, list]:
    """What ``cut_cells`` does before the crops: working scale, reduced copy, detection."""
    factor = working_scale(mask, classifier.size, classifier.crop.scale)
    image, work_mask = (bgr, mask) if factor == 1.0 else reduced(bgr, mask, factor)
    return image, detect_cells(image, work_mask)


def cell_stage_timings(classifier: CellClassifier, repeats: int) -> dict[str, Any]:
    """Per size: milliseconds per field and per cell of detection, crops and classification."""
    from allscope.core.sources.demo.slide import render_field

    out: dict[str, Any] = {}
    for width, height in SIZES:
        bgr = render_field(width, height, seed=11, n_wbc=CELLS[(width, height)])[0]
        mask = lab_kmeans_mask(bgr)
        image, cells = _detect(classifier, bgr, mask)
        n = max(1, len(cells))
        crops = cell_crops(image, cells, classifier.size, classifier.crop)
        stages = {
            "detect": time_ms(partial(_detect, classifier, bgr, mask), repeats),
            "crop": time_ms(
                partial(cell_crops, image, cells, classifier.size, classifier.crop), repeats
            ),
            "classify": time_ms(partial(classifier.predict_crops, crops), repeats),
        }
        total = [sum(parts) for parts in zip(*stages.values(), strict=True)]
        entry: dict[str, Any] = {
            "cells": len(cells),
            "working_scale": working_scale(mask, classifier.size, classifier.crop.scale),
        }
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


def model_sizes(classifier: CellClassifier, repeats: int, batch: int = 16,
                sizes: tuple[int, ...] = INPUT_SIZES) -> dict[str, Any]:
    """ms per cell of the package's IR at its input size and at ``sizes`` (the IR reshaped:
    a speed figure only, its weights were trained at its own size), for a fixed batch of
    ``batch`` crops and for the same batch through the IR's dynamic batch dimension; rounds
    alternate so that machine load hits every variant alike."""
    package, core = classifier.package, ov.Core()
    runs: dict[str, Any] = {}
    for side in dict.fromkeys((classifier.size, *sizes)):
        model = core.read_model(str(package.xml))
        if side != classifier.size:
            shape = model.input(0).get_partial_shape()
            shape[2 if package.input.layout == "NCHW" else 1] = side
            shape[3 if package.input.layout == "NCHW" else 2] = side
            model.reshape({0: shape})
        spec = dataclasses.replace(package.input, width=side, height=side)
        compile = partial(_compile_latency, core, spec)
        crops = np.random.default_rng(0).integers(0, 256, (batch, side, side, 3), np.uint8)
        fixed = FixedBatches(model, compile, sizes=(batch,))
        dynamic = compile(model.clone()).create_infer_request()
        runs[f"{side}px fixed"] = partial(fixed.infer, crops, classifier.outputs)
        runs[f"{side}px dynamic"] = partial(dynamic.infer, {0: crops})
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            samples[name] += time_ms(run, 1, warm_up=not samples[name])
    per_cell = {name: round(float(np.median(v)) / batch, 3) for name, v in samples.items()}
    return {"batch": batch, "precision": package.precision, "ms_per_cell": per_cell}


def varying_fields(classifier: CellClassifier, repeats: int, fields: int = 60) -> dict[str, Any]:
    """ms per cell over ``fields`` fields of 1 to 16 cells each (seeded), one inference per
    field as live: the package's fixed batches (``predict_crops``) against its IR's dynamic
    batch, whose shape then changes from field to field; rounds alternate."""
    package, core = classifier.package, ov.Core()
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 17, fields)
    batches = [rng.integers(0, 256, (n, classifier.size, classifier.size, 3), np.uint8)
               for n in counts]
    model = core.read_model(str(package.xml))
    dynamic = _compile_latency(core, package.input, model).create_infer_request()
    classifier.warm_up()
    runs = {
        "fixed": lambda: [classifier.predict_crops(b) for b in batches],
        "dynamic": lambda: [dynamic.infer({0: b}) for b in batches],
    }
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(max(1, repeats // 10)):
        for name, run in runs.items():
            samples[name] += time_ms(run, 1, warm_up=not samples[name])
    cells = int(counts.sum())
    per_cell = {name: round(float(np.median(v)) / cells, 3) for name, v in samples.items()}
    return {"fields": fields, "cells": cells, "ms_per_cell": per_cell,
            "fixed_over_dynamic": round(per_cell["fixed"] / max(per_cell["dynamic"], 1e-9), 3)}


def side_by_side(document: dict[str, Any]) -> dict[str, Any]:
    """Per size: the field-only total, the field-only total plus the cell stages, and their
    ratio (medians from this one process)."""
    out = {}
    for size, entry in document.get("cells", {}).items():
        field = document["total"][size]["median_ms"]
        cells = entry["total"]["per_field"]["median_ms"]
        out[size] = {"field_only_ms": field, "with_cells_ms": round(field + cells, 3),
                     "with_cells_over_field_only": round((field + cells) / max(field, 1e-9), 2)}
    return out


def _compile_latency(core: ov.Core, spec: Any, model: ov.Model) -> ov.CompiledModel:
    return core.compile_model(with_preprocessing(model, spec), "CPU",
                              {"PERFORMANCE_HINT": "LATENCY"})


def analyze_rates(
    folder: Path, classifier: Classifier | None, cells: CellClassifier, rounds: int = 2
) -> dict[str, Any]:
    """Fields per second of batch analysis with and without cells (alternating rounds), and
    the process's CPU milliseconds per field (all its threads): on a machine shared with other
    work the CPU time varies far less than the wall-clock rate."""
    rates: dict[str, list[float]] = {"fields_only": [], "with_cells": []}
    cpu: dict[str, list[float]] = {"fields_only": [], "with_cells": []}
    fields = 0
    for _ in range(rounds):
        for name, cell_model in (("fields_only", None), ("with_cells", cells)):
            analyzer = BatchAnalyzer(classifier, cell_classifier=cell_model)
            started, cpu_started = time.perf_counter(), time.process_time()
            report = analyzer.run([folder])
            fields = max(report.analysed, 1)
            rates[name].append(report.analysed / (time.perf_counter() - started))
            cpu[name].append((time.process_time() - cpu_started) * 1e3 / fields)
    medians = {k: round(float(np.median(v)), 1) for k, v in rates.items()}
    cpu_ms = {k: round(float(np.median(v)), 2) for k, v in cpu.items()}
    return {
        "fields": fields,
        "rounds": rounds,
        "fields_per_s": medians,
        "with_cells_over_fields_only": round(
            medians["with_cells"] / max(medians["fields_only"], 1e-9), 3
        ),
        "cpu_ms_per_field": cpu_ms,
        "cpu_with_cells_over_fields_only": round(
            cpu_ms["with_cells"] / max(cpu_ms["fields_only"], 1e-9), 3
        ),
    }
