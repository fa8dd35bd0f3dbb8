"""Choices for the fine-tuned cell network, from the logits of ``finetune_run`` (no test data).

Per configuration: temperature (validation NLL), the P(blast) threshold (blast sensitivity
≥ 0.98 on validation-block cells of ALL fields, after relabelling) and the choice figures:

- validation AUC of P(blast), blast against every other validation cell of every source;
- validation specificity against benign lymphoid cells (cells of Benign fields) at the
  threshold;
- 1 − BCCD cells called blast by the model trained without BCCD (its own temperature and
  threshold from validation).

The highest mean wins. The figure of the model trained without PBC (all PBC cells called
blast) is reported, never used for the choice: it is the honest new-laboratory estimate.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from allscope.training.cells.evaluate import auc, rate, sensitivity_threshold
from allscope.training.cells.sources import BLAST, CLASSES, LYMPHOCYTE, NON_BLAST, SOURCES
from allscope.training.metrics import fit_temperature, softmax

TAL, PBC, BCCD = 0, 1, 2
VAL = 1
SENSITIVITY_TARGET = 0.98
CHOICE_RULE = (
    "mean of: validation AUC of P(blast) (blast vs every other validation cell), validation "
    "specificity vs benign lymphoid at the threshold, 1 − BCCD cells called blast by the "
    "model trained without BCCD; highest wins (test splits and the PBC-held-out figure never "
    "used)"
)


def calibrate(logits: np.ndarray, labels: np.ndarray, meta: dict, exclude: int | None) -> dict:
    """Temperature and threshold of one model from validation rows of its training sources."""
    val = (meta["split"] == VAL) & (labels >= 0)
    if exclude is not None:
        val &= meta["source"] != exclude
    temperature = fit_temperature(logits[val], labels[val])
    p = softmax(logits, temperature)[:, BLAST]
    blasts = (meta["source"] == TAL) & (meta["split"] == VAL) & (labels == BLAST)
    return {
        "temperature": temperature,
        "threshold": sensitivity_threshold(p[blasts], SENSITIVITY_TARGET),
        "p_blast": p,
    }


def held_out(recipe: dict, labels: np.ndarray, meta: dict, source: int) -> list[dict]:
    """Every cell of ``source`` (model trained without it) called blast, per class."""
    mine = meta["source"] == source
    called = recipe["p_blast"][mine] >= recipe["threshold"]
    name = SOURCES[source]
    split = f"{name} held out (all {name.upper()} cells, model trained without them)"
    figures = [rate(called, "normal cells called blast", split)]
    for c in range(LYMPHOCYTE, len(CLASSES)):
        if (labels[mine] == c).any():
            figures.append(rate(called[labels[mine] == c], f"{CLASSES[c]} called blast", split))
    if (labels[mine] == NON_BLAST).any():
        figures.append(rate(called[labels[mine] == NON_BLAST], "WBC-box cells called blast", split))
    return figures


def choose(logits_npz: Path, meta: dict[str, np.ndarray], configs: list[str]) -> dict:
    """Every configuration's recipe and choice figures; the chosen configuration's name."""
    z = dict(np.load(logits_npz))
    field_labels = meta["label"]
    results: dict[str, dict] = {}
    for name in configs:
        labels = z["labels_all"]
        recipe = calibrate(z[f"{name}_all"], labels, meta, None)
        p, thr = recipe["p_blast"], recipe["threshold"]
        val = meta["split"] == VAL
        benign = (meta["source"] == TAL) & val & (field_labels == LYMPHOCYTE)
        no_bccd = calibrate(z[f"{name}_no_bccd"], z["labels_no_bccd"], meta, BCCD)
        no_pbc = calibrate(z[f"{name}_no_pbc"], z["labels_no_pbc"], meta, PBC)
        bccd_figures = held_out(no_bccd, field_labels, meta, BCCD)
        pbc_figures = held_out(no_pbc, field_labels, meta, PBC)
        choice = {
            "val_auc": auc(p[val], labels[val] == BLAST),
            "val_specificity_benign_lymphoid": float((p[benign] < thr).mean()),
            "bccd_held_out_called_blast": float(bccd_figures[0]["value"]),
            "pbc_held_out_called_blast": float(pbc_figures[0]["value"]),
        }
        choice["score"] = float(
            np.mean(
                [
                    choice["val_auc"],
                    choice["val_specificity_benign_lymphoid"],
                    1 - choice["bccd_held_out_called_blast"],
                ]
            )
        )
        results[name] = {
            "recipe": {k: v for k, v in recipe.items() if k != "p_blast"},
            "choice": choice,
            "held_out": pbc_figures + bccd_figures,
        }
    chosen = max(results, key=lambda k: results[k]["choice"]["score"])
    return {"results": results, "chosen": chosen}
