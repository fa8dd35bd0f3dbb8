"""MODEL_CARD.md of the fine-tuned cells package, written from the run's summary.

Figures come from ``summary.json`` (no number typed in); the prose states the recipe, the
choices and what each figure's split is.
"""

from __future__ import annotations

from pathlib import Path

from allscope.training.cells.card import CITATIONS, _adaptation, _table


def _config_rows(configs: dict) -> list[str]:
    rows = [
        "| configuration | val AUC | val specificity vs benign lymphoid | BCCD held out: "
        "called blast | PBC held out: called blast (not used) | score |",
        "|---|---|---|---|---|---|",
    ]
    for name, c in configs.items():
        rows.append(
            f"| {name} | {c['val_auc']:.3f} | {c['val_specificity_benign_lymphoid']:.3f} | "
            f"{c['bccd_held_out_called_blast']:.3f} | {c['pbc_held_out_called_blast']:.3f} | "
            f"{c['score']:.3f} |"
        )
    return rows


def write_card(path: Path, s: dict, extra: list[str] | None = None) -> None:
    """Write MODEL_CARD.md for the package at ``path`` from the summary ``s``."""
    crop, config, e2e = s["crop"], s["config"], s["end_to_end"]
    text = [
        "# allscope-cells: per-cell blast screening model",
        "",
        "**Screening aid, not a diagnosis.** It pre-classifies each white cell found by the",
        "paper's LAB K-means mask so that a person can confirm it. All of its blasts come from",
        "a single laboratory: at another laboratory verify it locally (site adaptation).",
        "",
        "## Model",
        f"- {s['architecture']}.",
        f"- Input {s['size']}×{s['size']} crops; side = {crop['scale']} × the cell's equivalent",
        f"  diameter; background suppressed: {crop['suppress_background']}.",
        f"- Shipped precision {s['precision']}; P(blast) threshold {s['threshold']:.4f}",
        f"  ({s['threshold_rule']}); temperature {s['temperature']:.3f} (validation NLL).",
        f"- Outputs: `logits` ({', '.join(s['classes'])}) and `features` (pooled trunk features,",
        "  what site adaptation fits on).",
        "",
        "## Recipe",
        "- Every layer is trained (ImageNet start; the folded BatchNorms are first turned into",
        "  real ones on 1024 training views so that train-mode statistics keep the ImageNet",
        f"  function). AdamW lr {config['lr']}, weight decay {config['weight_decay']}, one-cycle,",
        f"  {config['epochs']} epochs of batch {config['batch']}, label smoothing",
        f"  {config['label_smoothing']}, dropout {config['dropout']} before the linear head.",
        "- Resolution-normalised input: every B-ALL blast comes from one laboratory whose",
        "  224² fields hold cells ~20-30 px across, while PBC/BCCD cells are sharp at 100+ px, so",
        "  sharpness itself would tell the laboratory. The input is small (the crop is shrunk to",
        "  about the B-ALL cells' native resolution), at training and at inference, and half of",
        "  the training views are shrunk further (16 px up) and enlarged back.",
        "- Augmentation, batched in torch: crop side jitter 0.85-1.18, shift, any rotation, flip;",
        "  per-channel gain, saturation, hue rotation, contrast, brightness, gamma, grey",
        f"  (p {config['grey_p']}), noise, blur. Stored crops are JPEG (quality 95).",
        "- Loss: cross-entropy, each class one equal share; the lymphocyte share split equally",
        "  between B-ALL hematogones (the hard negatives) and PBC lymphocytes; BCCD WBC-box cells",
        "  of unknown type add -log(1 - P(blast)).",
        f"- Label noise: {s['label_noise']}. Rule: a short run of the same network on the typed",
        "  normal cells of the other laboratories reads every B-ALL-field cell; P ≥ 0.9 for",
        "  neutrophil, monocyte, eosinophil, basophil or other (blast and lymphocyte excluded)",
        "  relabels it. Without PBC there are no typed normal cells and field labels stay.",
        f"- Crops: {s['bundle_cells']} cells (every Benign-field cell and 4 per ALL field of the",
        "  train blocks, 4 per validation-block field, every PBC and BCCD cell; no test-block",
        "  cell). Training device of this package's run:",
        f"  {s['training_device']}; seconds per training: {_seconds(s['training_seconds'])}.",
        "",
        "## Choices made on validation",
        f"- Rule: {s['choice_rule']}. Chosen: **{s['chosen_config']}** (s = background",
        "  suppressed, p = plain; the number is the input side in px).",
        "",
        *_config_rows(s["configs"]),
        "",
        "## Held-out source (model trained without that laboratory, all of its cells)",
        "The PBC figure is the honest new-laboratory estimate; it was not used for any choice.",
        "The BCCD figure was used for the choice above. Computed on the bundle's views (the",
        "runtime's crop geometry resampled from the stored crops), each model with its own",
        "validation temperature and threshold.",
        "",
        *_table(s["held_out"]),
        "",
        "## Validation, shipped runtime (detector → crops → INT8), every detected cell",
        *_table(s["validation_runtime"]["INT8"]),
        "",
        "## Shipped runtime, end to end (detector → crops → INT8 package), test splits",
        *_table(e2e["INT8"]),
        "",
        f"INT8 and FP32 agree on {e2e['int8_fp32_call_agreement']:.4f} of the calls on these",
        f"{e2e['cells']} cells (largest P(blast) difference",
        f"{e2e['int8_fp32_max_abs_p_blast_difference']:.3f}).",
        "",
        "## Site adaptation (sanity estimates)",
        "- " + _adaptation(s["site_adaptation_sanity"]),
        "- " + _adaptation(s["site_adaptation_pbc"]) + " Without adaptation that model calls "
        f"{s['site_adaptation_pbc']['base_lymphocytes_called_blast']:.3f} of these lymphocytes "
        "blast. The blasts here come from the training laboratory: it shows the decision can be "
        "refitted from 40 cells, not a foreign blast sensitivity.",
        "",
        *(extra or []),
        "## Citations and licences",
        *(f"- {c}" for c in CITATIONS),
        "",
        "Reproduce: `allscope train cells --finetune --device cuda --data ../shared/data --out",
        "runs/cells-ft --package models/cells` (`--device cpu` runs the same code).",
        "",
    ]
    (path / "MODEL_CARD.md").write_text("\n".join(text), encoding="utf-8")


def _seconds(runs: dict) -> str:
    return ", ".join(f"{k} {v:.0f}" for k, v in runs.items())
