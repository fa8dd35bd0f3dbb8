"""From feature tables to a chosen variant, a trained head and every figure of the card.

Steps (each recorded in the summary):

1. Label noise: a head trained on the PBC and BCCD cells only (the normal types, another
   laboratory) reads every B-ALL-field cell; a cell it calls a neutrophil, eosinophil,
   basophil, monocyte or ``other`` with probability ≥ ``RELABEL_CONFIDENCE`` takes that label
   instead of its field's (blast / benign lymphoid). Both field kinds are treated alike, and
   how many cells it touched in each is reported.
2. Per variant: a head on the train split of every source; temperature on validation; the
   P(blast) threshold on validation B-ALL blasts for sensitivity ≥ ``SENSITIVITY_TARGET``.
3. One source held out: the same recipe without PBC, measured on all PBC cells; without
   BCCD, measured on all BCCD cells.
4. The variant is chosen on validation and held-out-source figures only (never test).
"""

from __future__ import annotations

import numpy as np

from allscope.training.cells.evaluate import auc, auc_figure, rate, sensitivity_threshold
from allscope.training.cells.features import SPLITS, VIEW_KINDS, FeatureTable
from allscope.training.cells.head import HeadConfig, fit_head, head_logits
from allscope.training.cells.sources import BLAST, CLASSES, LYMPHOCYTE, NON_BLAST, OTHER, SOURCES
from allscope.training.metrics import fit_temperature, softmax

RELABEL_CONFIDENCE = 0.9
SENSITIVITY_TARGET = 0.98
RELABEL_CLASSES = (2, 3, 4, 5, OTHER)  # neutrophil, monocyte, eosinophil, basophil, other


class Rows:
    """Boolean row selections of a feature table."""

    def __init__(self, table: FeatureTable) -> None:
        self.meta = table.meta

    def __call__(
        self,
        source: str | None = None,
        split: str | None = None,
        kind: str | None = None,
        exclude: str | None = None,
    ) -> np.ndarray:
        keep = np.ones(len(self.meta["label"]), bool)
        if source is not None:
            keep &= self.meta["source"] == SOURCES.index(source)
        if exclude is not None:
            keep &= self.meta["source"] != SOURCES.index(exclude)
        if split is not None:
            keep &= self.meta["split"] == SPLITS.index(split)
        if kind is not None:
            keep &= self.meta["kind"] == VIEW_KINDS.index(kind)
        return keep


def cell_keys(meta: dict[str, np.ndarray]) -> np.ndarray:
    """One integer per cell (field, cell index), shared by all views of the cell."""
    return meta["field"].astype(np.int64) * 4096 + meta["cell"]


def relabel(table: FeatureTable, variant: str, config: HeadConfig) -> tuple[np.ndarray, dict]:
    """Labels after the label-noise step (see the module docstring) and what it changed."""
    rows, labels = Rows(table), table.meta["label"].copy()
    normal = rows(split="train") & ~rows(source="taleqani") & (labels >= LYMPHOCYTE)
    head = fit_head(table.features[variant][normal], labels[normal], config)
    clean_taleqani = rows(source="taleqani", kind="clean")
    probabilities = softmax(head_logits(head, table.features[variant][clean_taleqani]))
    probabilities[:, BLAST] = 0.0
    probabilities /= probabilities.sum(1, keepdims=True)
    best = probabilities.argmax(1)
    confident = np.isin(best, RELABEL_CLASSES) & (probabilities.max(1) >= RELABEL_CONFIDENCE)
    keys = cell_keys(table.meta)
    new_label = dict(zip(keys[clean_taleqani][confident], best[confident], strict=True))
    for i in np.flatnonzero(rows(source="taleqani")):
        labels[i] = new_label.get(keys[i], labels[i])
    original = table.meta["label"][clean_taleqani]
    report = {
        "rule": f"a head trained on PBC + BCCD cells only (normal types, another laboratory) "
        f"calls a B-ALL-field cell neutrophil, monocyte, eosinophil, basophil or other "
        f"with P ≥ {RELABEL_CONFIDENCE} (blast excluded, renormalised): the cell takes "
        "that label instead of its field's",
        "cells_of_ALL_fields_relabelled": f"{int((confident & (original == BLAST)).sum())}/"
        f"{int((original == BLAST).sum())}",
        "cells_of_Benign_fields_relabelled": f"{int((confident & (original == LYMPHOCYTE)).sum())}/"
        f"{int((original == LYMPHOCYTE).sum())}",
        "relabelled_to": {CLASSES[c]: int((best[confident] == c).sum()) for c in RELABEL_CLASSES},
    }
    return labels, report


def fit_recipe(
    table: FeatureTable, variant: str, labels: np.ndarray, train: np.ndarray, config: HeadConfig
) -> dict:
    """Head, temperature and threshold, fitted on ``train`` rows and validation rows."""
    rows = Rows(table)
    features = table.features[variant]
    head = fit_head(features[train], labels[train], config)
    val = rows(split="val", kind="clean") & (labels >= 0) & _sources_of(table, train)
    temperature = fit_temperature(head_logits(head, features[val]), labels[val])
    p_val = p_blast_of(
        head, temperature, features[rows(source="taleqani", split="val", kind="clean")]
    )
    val_blasts = labels[rows(source="taleqani", split="val", kind="clean")] == BLAST
    threshold = sensitivity_threshold(p_val[val_blasts], SENSITIVITY_TARGET)
    return {"head": head, "temperature": temperature, "threshold": threshold}


def _sources_of(table: FeatureTable, train: np.ndarray) -> np.ndarray:
    present = np.unique(table.meta["source"][train])
    return np.isin(table.meta["source"], present)


def p_blast_of(head, temperature: float, features: np.ndarray) -> np.ndarray:
    return softmax(head_logits(head, features), temperature)[:, BLAST]


def held_out_source(
    table: FeatureTable, variant: str, labels: np.ndarray, source: str, config: HeadConfig
) -> tuple[list[dict], float]:
    """Train without ``source``; figures on all of its cells (clean views) at that recipe's
    threshold, and the false-blast rate used for the choice of variant."""
    rows = Rows(table)
    recipe = fit_recipe(
        table, variant, labels, rows(split="train", exclude=source) & (labels != -99), config
    )
    mine = rows(source=source, kind="clean")
    p = p_blast_of(recipe["head"], recipe["temperature"], table.features[variant][mine])
    called = p >= recipe["threshold"]
    split = f"{source} held out (all {source.upper()} cells, model trained without them)"
    figures = [rate(called, "normal cells called blast", split)]
    for c in range(LYMPHOCYTE, len(CLASSES)):
        chosen = labels[mine] == c
        if chosen.any():
            figures.append(rate(called[chosen], f"{CLASSES[c]} called blast", split))
    if (labels[mine] == NON_BLAST).any():
        figures.append(rate(called[labels[mine] == NON_BLAST], "WBC-box cells called blast", split))
    return figures, float(called.mean())


def test_figures(table: FeatureTable, variant: str, labels: np.ndarray, recipe: dict) -> list[dict]:
    """Cell-level figures on the test split of every source (held-out blocks for B-ALL)."""
    rows, feats = Rows(table), table.features[variant]
    figures = []
    for kind, tag in (("clean", ""), ("shifted", ", camera/stain shifted")):
        sel = rows(source="taleqani", split="test", kind=kind)
        p = p_blast_of(recipe["head"], recipe["temperature"], feats[sel])
        lab, called = labels[sel], p >= recipe["threshold"]
        split = f"B-ALL test blocks{tag} ({int(sel.sum())} cells)"
        figures.append(rate(called[lab == BLAST], "blast sensitivity", split))
        figures.append(rate(~called[lab == LYMPHOCYTE], "specificity vs benign lymphoid", split))
        figures.append(rate(~called[(lab != BLAST)], "specificity vs all non-blast cells", split))
        both = (lab == BLAST) | (lab == LYMPHOCYTE)
        figures.append(
            auc_figure(
                p[both],
                lab[both] == BLAST,
                table.meta["field"][sel][both],
                "AUC of P(blast), blast vs benign lymphoid",
                split,
            )
        )
    for source in ("pbc", "bccd"):
        sel = rows(source=source, split="test", kind="clean")
        p = p_blast_of(recipe["head"], recipe["temperature"], feats[sel])
        figures.append(
            rate(
                ~(p >= recipe["threshold"]),
                "specificity (normal cells not blast)",
                f"{source.upper()} test split ({int(sel.sum())} cells, source in training)",
            )
        )
    return figures


def val_auc(
    table: FeatureTable, variant: str, labels: np.ndarray, recipe: dict, kind: str
) -> float:
    rows = Rows(table)
    sel = rows(split="val", kind=kind) & (labels != -99)
    p = p_blast_of(recipe["head"], recipe["temperature"], table.features[variant][sel])
    return auc(p, labels[sel] == BLAST)
