"""Export the chosen recipe as a package and check it end to end through the application's
runtime (``CellClassifier`` on the detector's cells), FP32 beside INT8.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from allscope.core.cells.classifier import CellClassifier
from allscope.core.model_package import CropSpec, ModelPackage
from allscope.training.cells.evaluate import auc, rate, sensitivity_threshold
from allscope.training.cells.export import export_cells, package_meta, to_ir_input
from allscope.training.cells.finetune_pick import SENSITIVITY_TARGET
from allscope.training.cells.sources import BLAST, NON_BLAST, all_sources
from allscope.training.cells.views import clean_view

CALIBRATION_CROPS = 300
RUNTIME_THRESHOLD_RULE = (
    f"largest P(blast) threshold, capped at 0.5, keeping blast sensitivity ≥ {SENSITIVITY_TARGET} "
    "on every cell the shipped runtime (detector → crops → this package) finds in the "
    "validation-block ALL fields, field labels"
)


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


@dataclass(frozen=True)
class RuntimeScores:
    """P(blast) of every detected cell of one split through ``CellClassifier``, per package,
    with each cell's label, source and field."""

    p: dict[str, np.ndarray]
    labels: np.ndarray
    sources: np.ndarray
    fields: np.ndarray
    field_class: list[tuple[str, str, int]]  # (source, field class, cells) per field


def runtime_scores(
    classifiers: dict[str, CellClassifier], data: Path, split_json: Path, which: str
) -> RuntimeScores:
    """Every detected cell of every field of the ``which`` split of every source."""
    p: dict[str, list[float]] = {k: [] for k in classifiers}
    labels, sources, fields, field_class = [], [], [], []
    for number, item in enumerate(i for i in all_sources(data, split_json) if i.split == which):
        for name, classifier in classifiers.items():
            p[name] += [c.p_blast for c in classifier.predict(item.image, list(item.cells))]
        labels += list(item.labels)
        sources += [item.source] * len(item.cells)
        fields += [number] * len(item.cells)
        field_class.append((item.source, item.field_class, len(item.cells)))
    return RuntimeScores(
        {k: np.array(v, float) for k, v in p.items()},
        np.array(labels, int),
        np.array(sources, str),
        np.array(fields, int),
        field_class,
    )


def runtime_threshold(package: ModelPackage, data: Path, split_json: Path) -> tuple[float, dict]:
    """The P(blast) threshold of ``RUNTIME_THRESHOLD_RULE``, chosen on the cells the shipped
    runtime itself cuts and judges in the validation blocks (not on the training's stored
    views: JPEG context crops resampled, FP32), and the validation figures at it."""
    name = package.precision
    scores = runtime_scores({name: CellClassifier(package)}, data, split_json, "val")
    blasts = (scores.sources == "taleqani") & (scores.labels == BLAST)
    if not blasts.any():
        raise ValueError(f"{split_json}: its validation blocks hold no cell of an ALL field")
    threshold = sensitivity_threshold(scores.p[name][blasts], SENSITIVITY_TARGET)
    return threshold, _report(scores, {name: threshold}, "val")


def end_to_end(
    packages: dict[str, ModelPackage],
    data: Path,
    split_json: Path,
    which: str = "test",
    thresholds: dict[str, float] | None = None,
) -> dict:
    """Both packages on the ``which`` split of every source through ``CellClassifier``, every
    detected cell of every field; field flag = at least one cell called blast. Each package
    calls at its own threshold unless ``thresholds`` names another."""
    classifiers = {k: CellClassifier(p) for k, p in packages.items()}
    scores = runtime_scores(classifiers, data, split_json, which)
    chosen = {k: c.threshold for k, c in classifiers.items()} | (thresholds or {})
    return _report(scores, chosen, which)


def _report(s: RuntimeScores, thresholds: dict[str, float], which: str) -> dict:
    report: dict = {"cells": len(s.labels), "fields": len(s.field_class)}
    for name, threshold in thresholds.items():
        called = s.p[name] >= threshold
        report[name] = _figures(
            s.p[name], called, s.labels, s.sources, s.fields, s.field_class, which
        )
    if set(thresholds) != {"FP32", "INT8"}:
        return report
    calls = {k: s.p[k] >= t for k, t in thresholds.items()}
    report["int8_fp32_call_agreement"] = float(np.mean(calls["FP32"] == calls["INT8"]))
    report["int8_fp32_max_abs_p_blast_difference"] = float(
        np.max(np.abs(s.p["FP32"] - s.p["INT8"]))
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
