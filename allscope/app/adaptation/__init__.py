"""Site adaptation of a cell package: fit the blast decision to one laboratory's cells.

Qt-free, for ``allscope adapt`` and the app's "Adapt to this microscope" dialog::

    plan = evaluate(base, labelled_dir)   # reads, fits, cross-validates; refuses with a reason
    plan.record                           # the local figures, to show before anything changes
    write(plan, out_dir)                  # the derived package (only when the user confirms)

``evaluate`` raises ``AdaptationRefused`` when there are fewer than ``MIN_PER_CLASS`` cells of
blasts or of other cells, or when the cross-validated AUC of the adapted decision is below
the base package's AUC on the same cells.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from allscope.app.adaptation.fit import (
    Logistic,
    figures,
    fit_logistic,
    out_of_fold,
    sensitive_threshold,
)
from allscope.app.adaptation.labelled import LabelledCells, LabelledSetError, read_labelled
from allscope.app.adaptation.package import card_section, write_adapted
from allscope.core.cells.classifier import CellClassifier

__all__ = ["MIN_PER_CLASS", "AdaptationRefused", "LabelledSetError", "Plan", "evaluate", "write"]

MIN_PER_CLASS = 10
TARGET_SENSITIVITY = 0.98
FOLDS = 5


class AdaptationRefused(ValueError):
    """The labelled set cannot give a trustworthy site decision; the message says why."""


@dataclass(frozen=True)
class Plan:
    """A fitted site decision and its figures, not yet written anywhere."""

    base: CellClassifier
    model: Logistic
    threshold: float
    record: dict[str, Any]
    cells: LabelledCells


def evaluate(
    base: CellClassifier,
    labelled: Path,
    *,
    folds: int = FOLDS,
    target_sensitivity: float = TARGET_SENSITIVITY,
    progress: Callable[[int, int], None] | None = None,
) -> Plan:
    """Read the labelled cells, cross-validate the site decision and compare with the base."""
    cells = read_labelled(labelled, base, progress)
    counts = cells.counts
    if min(counts.values()) < MIN_PER_CLASS:
        raise AdaptationRefused(
            f"Too few cells: {counts['blast']} blasts and {counts['other']} other cells were "
            f"usable; at least {MIN_PER_CLASS} of each are needed for a local estimate. Add "
            "reviewed cells and run again." + _skipped_note(cells)
        )
    k = min(folds, min(counts.values()))
    oof = out_of_fold(cells.features, cells.y, k)
    threshold = sensitive_threshold(oof, cells.y, target_sensitivity)
    local = figures(oof, cells.y, threshold)
    base_figures = figures(cells.base_p_blast, cells.y, base.threshold)
    if local.auc < base_figures.auc:
        raise AdaptationRefused(
            f"The adapted decision is worse than the base package on these cells (AUC "
            f"{local.auc:.3f} cross-validated against {base_figures.auc:.3f}); the base "
            "package stays in force."
        )
    model = fit_logistic(cells.features, cells.y)
    record = {
        "created": time.strftime("%Y-%m-%d %H:%M:%S"),
        "base": {
            "name": base.package.name,
            "version": base.package.version,
            "sha256": base.package.sha256,
        },
        "labelled_set_sha256": cells.sha256,
        "counts": counts,
        "folders": sorted({f["class"] for f in cells.files}),
        "skipped": [f"{file}: {why}" for file, why in cells.skipped],
        "folds": k,
        "target_sensitivity": target_sensitivity,
        "method": "L2 logistic regression, C = 0.05 on standardised features (IRLS)",
        "local": local.to_dict(),
        "base_on_same_cells": base_figures.to_dict(),
        "split": "the labelled set, stratified cross-validation",
    }
    return Plan(base, model, threshold, record, cells)


def write(plan: Plan, out: Path) -> Path:
    """Write the derived package for ``plan`` to ``out`` (a new folder); returns it."""
    head = {
        "w": plan.model.w,
        "b": np.float64(plan.model.b),
        "threshold": np.float64(plan.threshold),
        "mean": plan.model.mean,
        "scale": plan.model.scale,
    }
    return write_adapted(
        out, plan.base, head, plan.record, plan.cells.files, card_section(plan.record)
    )


def _skipped_note(cells: LabelledCells) -> str:
    if not cells.skipped:
        return ""
    return f" ({len(cells.skipped)} image(s) skipped: no white cell found or unreadable.)"
