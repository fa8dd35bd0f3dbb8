"""Writing the adapted package: the base IR unchanged, ``site_head.npz`` beside it, and a
``model.json`` and ``MODEL_CARD.md`` that say what the base was, what was learnt from, and
how well it did locally. Built in a temporary folder and renamed into place, so an
interrupted run leaves no half package."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from allscope.core.cells.classifier import CellClassifier
from allscope.core.model_package import file_sha256, load_package, seal_package

HEAD_FILE = "site_head.npz"
SET_FILE = "labelled_set.json"


def write_adapted(
    out: Path,
    base: CellClassifier,
    head: dict[str, Any],
    record: dict[str, Any],
    files: list[dict[str, str]],
    card: str,
) -> Path:
    """The derived package at ``out`` (which must not exist yet); returns its path."""
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} already exists and is not empty; choose a new --out folder.")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for item in base.package.path.iterdir():
            if item.is_file() and item.name not in (HEAD_FILE, SET_FILE):
                shutil.copy2(item, staging / item.name)
        np.savez(staging / HEAD_FILE, **head)
        (staging / SET_FILE).write_text(json.dumps(files, indent=1) + "\n", encoding="utf-8")
        meta = json.loads((base.package.path / "model.json").read_text(encoding="utf-8"))
        meta = _derived_meta(meta, base, staging, record)
        (staging / "model.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        old_card = base.package.card or ""
        (staging / "MODEL_CARD.md").write_text(old_card.rstrip() + "\n\n" + card, encoding="utf-8")
        seal_package(staging)  # the manifest covers the new model.json, head and card
        load_package(staging)  # every hash checks out before it is put in place
        if out.exists():
            out.rmdir()
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _derived_meta(
    meta: dict[str, Any], base: CellClassifier, staging: Path, record: dict[str, Any]
) -> dict[str, Any]:
    package = base.package
    meta = dict(meta)
    meta["name"] = f"{package.name}-site"
    meta["version"] = f"{package.version}+site.{time.strftime('%Y%m%d%H%M%S')}"
    meta["base"] = {
        "name": package.name,
        "version": package.version,
        "sha256": package.sha256,
        "model_json_sha256": file_sha256(package.path / "model.json"),
    }
    meta["site_head"] = {
        "file": HEAD_FILE,
        "sha256": file_sha256(staging / HEAD_FILE),
        "summary": record,
    }
    meta["labelled_set"] = {
        "file": SET_FILE,
        "sha256": file_sha256(staging / SET_FILE),
        "set_sha256": record["labelled_set_sha256"],
    }
    return meta


def card_section(record: dict[str, Any]) -> str:
    """The adapted package's own MODEL_CARD section, in plain words with every split named."""
    local, base = record["local"], record["base_on_same_cells"]

    def row(name: str, f: dict[str, Any]) -> str:
        return (
            f"| {name} | {f['auc']:.3f} ({f['auc_ci95'][0]:.3f}-{f['auc_ci95'][1]:.3f}) "
            f"| {f['threshold']:.3f} | {f['sensitivity']:.3f} "
            f"({f['sensitivity_ci95'][0]:.3f}-{f['sensitivity_ci95'][1]:.3f}) "
            f"| {f['specificity']:.3f} "
            f"({f['specificity_ci95'][0]:.3f}-{f['specificity_ci95'][1]:.3f}) |"
        )

    return "\n".join(
        [
            f"## Site adaptation ({record['created']})",
            "",
            "A screening aid, not a diagnosis. This package is the base package above with a "
            "decision fitted at one laboratory: an L2 logistic regression (C = 0.05; blast "
            "versus every other cell) on the base package's cell features. It replaces "
            "P(blast) and the threshold; the base model's per-type probabilities are unchanged.",
            "",
            f"- Base package: {record['base']['name']} {record['base']['version']} "
            f"(SHA-256 {record['base']['sha256']}).",
            f"- Labelled set: {record['counts']['blast']} blasts and {record['counts']['other']} "
            f"other cells (folders {', '.join(record['folders'])}), set SHA-256 "
            f"{record['labelled_set_sha256']}; per-file hashes in {SET_FILE}. "
            f"{len(record['skipped'])} image(s) skipped (no white cell found or unreadable).",
            f"- Threshold: chosen for blast sensitivity >= {record['target_sensitivity']} on the "
            "cross-validated P(blast) of these same cells, so the sensitivity shown at it is "
            "optimistic.",
            "",
            f"Figures on the labelled set ({record['folds']}-fold stratified cross-validation; "
            "95% intervals: Hanley-McNeil for AUC, Wilson for proportions):",
            "",
            "| model | AUC | threshold | sensitivity | specificity |",
            "|---|---|---|---|---|",
            row("adapted (cross-validated)", local),
            row("base package, same cells", base),
            "",
            "Limits: the figures come from the same laboratory's cells the decision was fitted on "
            "(cross-validated, not an independent test set); they say nothing about other "
            "laboratories, stains or cameras. Verify locally before clinical use.",
            "",
        ]
    )
