"""Choose a cells package's P(blast) threshold again, on the cells its own runtime cuts and
judges in the validation blocks, and measure the card's runtime figures again.

``allscope train cells recalibrate --package models/cells`` (data and split as for training).
Use it when the runtime in front of the model changes (the detector, the crops) or to move a
package from the training's threshold (chosen on stored views) to the runtime's. The weights
are untouched; model.json (threshold, version, summary), the card and the manifest are
rewritten, so the package's identity changes and sessions record the new one. The previous
threshold and its rule are kept in ``summary.threshold_history``.
"""

from __future__ import annotations

from pathlib import Path

from allscope.core.model_package import load_package, seal_package
from allscope.training.cells.card_finetune import write_card
from allscope.training.cells.package import RUNTIME_THRESHOLD_RULE, end_to_end, runtime_threshold
from allscope.training.export import update_meta


def recalibrate(path: Path, data: Path, split_json: Path, version: str | None = None) -> dict:
    """Rewrite the package at ``path`` with the runtime threshold; return its new summary.
    Every figure is measured before anything is written: a failure leaves the package as it
    was."""
    package = load_package(path, kind="cells")
    summary = dict(package.summary)
    before = {
        "threshold": package.threshold,
        "rule": summary.get("threshold_rule", "not recorded"),
        "version": package.version,
    }
    threshold, validation = runtime_threshold(package, data, split_json)
    name = package.precision
    test = end_to_end({name: package}, data, split_json, "test", {name: threshold})
    old = summary.get("end_to_end", {})
    if "int8_fp32_call_agreement" in old:
        summary["int8_fp32_at_export"] = {
            "call_agreement": old["int8_fp32_call_agreement"],
            "max_abs_p_blast_difference": old["int8_fp32_max_abs_p_blast_difference"],
            "cells": old["cells"],
            "threshold": before["threshold"],
        }
    if summary.get("comparison"):
        summary["comparison"]["when"] = f"at export, threshold {before['threshold']:.4f}"
    summary["threshold_history"] = [*summary.get("threshold_history", []), before]
    summary["threshold"] = threshold
    summary["threshold_rule"] = RUNTIME_THRESHOLD_RULE
    summary["precision"] = name
    summary["validation_runtime"] = validation
    summary["end_to_end"] = test
    changed: dict[str, object] = {"threshold": threshold, "summary": summary}
    if version:
        changed["version"] = version
    update_meta(path, **changed)
    if summary.get("recipe") == "fine-tuned":  # the card is written from this summary
        write_card(path, summary)
        seal_package(path)  # the manifest covers the card too
    return summary


__all__ = ["recalibrate"]
