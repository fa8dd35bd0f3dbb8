"""The fine-tuned network as a cells package, and its figures through the application's runtime.

``CellNet`` (the export graph: ``logits`` and ``features``) is rebuilt from a ``finetune_run``
state dict; FP32 goes to the run folder, INT8 (NNCF, calibrated on train-split crops) to the
package. Site-adaptation sanity figures use the network's ``features`` on the runtime's own
crops (``cell_crop``) of B-ALL validation/test-block cells and PBC lymphocytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from allscope.core.model_package import CropSpec, ModelPackage, write_package
from allscope.training.augment import camera_shift
from allscope.training.cells.adaptation import adaptation_estimate
from allscope.training.cells.backbone import CellNet, Head, Trunk, to_openvino
from allscope.training.cells.export import quantize, to_ir_input
from allscope.training.cells.sources import BLAST, CLASSES, LYMPHOCYTE, all_sources
from allscope.training.cells.views import clean_view
from allscope.training.metrics import softmax

ARCHITECTURE = (
    "MobileNetV2 1.0 (ImageNet start, every layer fine-tuned) → pooled block-13 + final "
    "features (1376) → standardise → linear head → 7 classes"
)


def net_from_state(state: dict[str, torch.Tensor]) -> CellNet:
    """The export graph with a fine-tuned state dict (fp16 entries widened)."""
    features = state["head.mean"].numel()
    head = Head(torch.zeros(features), torch.ones(features), len(CLASSES), dropout=0.0)
    net = CellNet(Trunk(), head)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return net.eval()


def export_finetuned(
    out: Path, work: Path, net: CellNet, size: int, meta: dict, calibration: list[np.ndarray]
) -> dict[str, ModelPackage]:
    """FP32 candidate in ``work/fp32``, INT8 package in ``out``."""
    model = to_openvino(net, size, ("logits", "features"))
    fp32 = write_package(work / "fp32", model, {**meta, "precision": "FP32"})
    int8 = write_package(out, quantize(model, calibration), {**meta, "precision": "INT8"})
    return {"FP32": fp32, "INT8": int8}


def runtime_crops(data: Path, split_json: Path, size: int, crop: CropSpec, seed: int = 0) -> dict:
    """Runtime crops (clean and camera/stain shifted) of up to 4 cells per B-ALL
    validation/test-block field, and of every PBC lymphocyte."""
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {k: [] for k in ("clean", "shifted", "label", "split", "field")}
    pbc: list[np.ndarray] = []
    for number, item in enumerate(all_sources(data, split_json)):
        if item.source == "pbc" and item.labels[0] == LYMPHOCYTE:
            pbc.append(clean_view(item.image, item.cells[0], size, crop))
        if item.source != "taleqani" or item.split == "train" or not item.cells:
            continue
        shifted = camera_shift(item.image, int(rng.integers(3)))
        picks = rng.choice(len(item.cells), min(4, len(item.cells)), replace=False)
        for i in sorted(picks.tolist()):
            out["clean"].append(clean_view(item.image, item.cells[i], size, crop))
            out["shifted"].append(clean_view(shifted, item.cells[i], size, crop))
            out["label"].append(item.labels[i])
            out["split"].append(item.split)
            out["field"].append(number)
    arrays = {k: np.array(v) for k, v in out.items()}
    arrays["pbc_lymphocytes"] = np.array(pbc)
    return arrays


@torch.no_grad()
def run_net(net: CellNet, crops_bgr: np.ndarray, batch: int = 256) -> tuple[np.ndarray, np.ndarray]:
    """(logits, features) of u8 BGR crops through the torch export graph."""
    logits, features = [], []
    for s in range(0, len(crops_bgr), batch):
        lg, ft = net(torch.from_numpy(to_ir_input(crops_bgr[s : s + batch])))
        logits.append(lg.numpy())
        features.append(ft.numpy())
    return np.concatenate(logits), np.concatenate(features)


def adaptation_figures(
    crops: dict,
    shipped: CellNet,
    no_pbc: CellNet,
    t_shipped: float,
    t_no_pbc: float,
    threshold_no_pbc: float,
) -> dict:
    """The card's two site-adaptation sanity estimates (see ``pipeline`` for their design)."""
    val, test = crops["split"] == "val", crops["split"] == "test"
    blast = crops["label"] == BLAST
    logits, feats = run_net(shipped, crops["shifted"])
    base = softmax(logits, t_shipped)[:, BLAST]
    sanity = adaptation_estimate(feats[val], blast[val], feats[test], blast[test], base[test])
    sanity["split"] = (
        "simulated new laboratory: B-ALL cells under camera/stain shifts; fitted on 20+20 "
        "validation-block cells, scored on test-block cells"
    )
    lg_b, ft_b = run_net(no_pbc, crops["clean"])
    lg_l, ft_l = run_net(no_pbc, crops["pbc_lymphocytes"])
    order = np.random.default_rng(0).permutation(len(ft_l))
    site, other = order[:200], order[200:]
    fit_x = np.concatenate([ft_b[val & blast], ft_l[site]])
    fit_y = np.concatenate([np.ones((val & blast).sum(), bool), np.zeros(len(site), bool)])
    test_x = np.concatenate([ft_b[test & blast], ft_l[other]])
    test_y = np.concatenate([np.ones((test & blast).sum(), bool), np.zeros(len(other), bool)])
    base_p = softmax(np.concatenate([lg_b[test & blast], lg_l[other]]), t_no_pbc)[:, BLAST]
    pbc = adaptation_estimate(fit_x, fit_y, test_x, test_y, base_p)
    pbc["base_lymphocytes_called_blast"] = float((base_p[~test_y] >= threshold_no_pbc).mean())
    pbc["split"] = (
        "PBC as the new laboratory (model trained without PBC): fitted on 20 PBC lymphocytes "
        "+ 20 validation-block blasts, scored on other PBC lymphocytes vs test-block blasts"
    )
    return {"site_adaptation_sanity": sanity, "site_adaptation_pbc": pbc}
