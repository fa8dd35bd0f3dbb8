"""Export the chosen recipe as a package and check it end to end through the application's
runtime (``CellClassifier`` on the detector's cells), FP32 beside INT8.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from allscope.core.cells.classifier import CellClassifier
from allscope.core.model_package import CropSpec, ModelPackage
from allscope.training.cells.evaluate import auc, rate
from allscope.training.cells.export import export_cells, package_meta, to_ir_input
from allscope.training.cells.sources import BLAST, NON_BLAST, all_sources
from allscope.training.cells.views import clean_view

CALIBRATION_CROPS = 300


def calibration_batches(
    data: Path,
    split_json: Path,
    crop: CropSpec,
    size: int,
    count: int = CALIBRATION_CROPS,
    seed: int = 0,
) -> list[np.ndarray]:
    """``count`` clean crops of train-split cells of every source (one IR input per crop)."""
    rng = np.random.default_rng(seed)
    crops = []
    for item in all_sources(data, split_json):
        if item.split == "train" and item.cells and rng.random() < 0.08:
            cell = item.cells[int(rng.integers(len(item.cells)))]
            crops.append(clean_view(item.image, cell, size, crop))
    picked = rng.choice(len(crops), min(count, len(crops)), replace=False)
    return [to_ir_input(crops[i][None]) for i in sorted(picked)]


def export_both(
    out: Path,
    work: Path,
    recipe: dict,
    variant,
    size: int,
    summary: dict,
    calibration: list[np.ndarray],
) -> dict[str, ModelPackage]:
    """FP32 candidate in ``work``, INT8 package in ``out``."""
    common = dict(
        size=size,
        variant=variant,
        temperature=recipe["temperature"],
        threshold=recipe["threshold"],
        summary=summary,
    )
    fp32 = export_cells(
        work / "fp32", recipe["head"], variant, size, package_meta(precision="FP32", **common)
    )
    int8 = export_cells(
        out, recipe["head"], variant, size, package_meta(precision="INT8", **common), calibration
    )
    return {"FP32": fp32, "INT8": int8}


def end_to_end(
    packages: dict[str, ModelPackage], data: Path, split_json: Path, which: str = "test"
) -> dict:
    """Both packages on the ``which`` split of every source through ``CellClassifier``, every
    detected cell of every field; field flag = at least one cell called blast."""
    classifiers = {k: CellClassifier(p) for k, p in packages.items()}
    p: dict[str, list[float]] = {k: [] for k in classifiers}
    labels, sources, fields, field_class = [], [], [], []
    for number, item in enumerate(i for i in all_sources(data, split_json) if i.split == which):
        for name, classifier in classifiers.items():
            p[name] += [c.p_blast for c in classifier.predict(item.image, list(item.cells))]
        labels += list(item.labels)
        sources += [item.source] * len(item.cells)
        fields += [number] * len(item.cells)
        field_class.append((item.source, item.field_class, len(item.cells)))
    y, src, fid = np.array(labels), np.array(sources), np.array(fields)
    report: dict = {"cells": len(y), "fields": len(field_class)}
    for name, classifier in classifiers.items():
        scores = np.array(p[name])
        called = scores >= classifier.threshold
        report[name] = _figures(scores, called, y, src, fid, field_class, which)
    if set(classifiers) != {"FP32", "INT8"}:
        return report
    calls = {k: np.array(v) >= classifiers[k].threshold for k, v in p.items()}
    report["int8_fp32_call_agreement"] = float(np.mean(calls["FP32"] == calls["INT8"]))
    report["int8_fp32_max_abs_p_blast_difference"] = float(
        np.max(np.abs(np.subtract(p["FP32"], p["INT8"])))
    )
    return report


def _figures(
    scores: np.ndarray,
    called: np.ndarray,
    y: np.ndarray,
    src: np.ndarray,
    fid: np.ndarray,
    field_class: list[tuple[str, str, int]],
    which: str = "test",
) -> list[dict]:
    tal = src == "taleqani"
    split = f"B-ALL {which} blocks, shipped runtime, every detected cell"
    flagged = np.array([bool(called[fid == f].any()) for f in range(len(field_class))])
    all_field = np.array([s == "taleqani" and c != "Benign" for s, c, _ in field_class])
    benign_field = np.array([s == "taleqani" and c == "Benign" for s, c, _ in field_class])
    bccd_field = np.array([s == "bccd" for s, _, _ in field_class])
    return [
        rate(
            called[tal & (y == BLAST)],
            "blast sensitivity (cells of ALL fields, field labels)",
            split,
        ),
        rate(
            ~called[tal & (y != BLAST)],
            "specificity vs benign lymphoid (cells of Benign fields)",
            split,
        ),
        {
            "metric": "AUC of P(blast), cells of ALL vs Benign fields",
            "split": split,
            "value": auc(scores[tal], y[tal] == BLAST),
        },
        rate(flagged[all_field], "field ALL sensitivity (≥1 cell called blast)", split),
        rate(~flagged[benign_field], "field specificity (Benign fields not flagged)", split),
        rate(
            ~called[src == "pbc"],
            "specificity (normal cells not blast)",
            f"PBC {which} split (source in training), shipped runtime",
        ),
        rate(
            ~called[(src == "bccd") & (y == NON_BLAST)],
            "specificity (WBC-box cells not blast)",
            f"BCCD {which} split (source in training), shipped runtime",
        ),
        rate(
            flagged[bccd_field],
            "BCCD fields flagged (≥1 cell called blast)",
            f"BCCD {which} split (source in training), shipped runtime",
        ),
    ]
