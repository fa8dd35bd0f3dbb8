"""Training runs of the fine-tuned cell network: relabelling, one source held out, logits out.

Needs only torch, numpy and OpenCV (see ``finetune``): ``python finetune_run.py --bundle
crops.npz --weights imagenet.pt --out DIR [--device cuda] [--configs NAME ...]`` trains, for
every configuration, one model on the train split of every source and one each without PBC
and without BCCD, and rewrites after each training ``logits.npz`` (logits of every bundle
cell, clean view, per configuration and setting) and ``state_<config>.pt`` (the state dicts of
the model on all sources, fp32, and of the model without PBC, fp16). Choices
(temperature, threshold, configuration) are made afterwards from these logits on validation
and held-out figures (``finetune_pick``).

Label noise: a model trained on the typed normal cells of the other laboratories present in
the training (PBC types, BCCD ``other``) reads every B-ALL-field cell; a cell it calls a
neutrophil, monocyte, eosinophil, basophil or other with P ≥ 0.9 (blast and lymphocyte
excluded, renormalised) takes that label instead of its field's. Without PBC there are no
typed normal cells, and the field labels stay.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

try:
    from allscope.training.cells.finetune import (
        FineNet,
        FineTuneConfig,
        balanced_weights,
        eval_views,
        loss_of,
        train_views,
    )
except ImportError:  # the device copy
    from finetune import (  # type: ignore[import-not-found,no-redef]
        FineNet,
        FineTuneConfig,
        balanced_weights,
        eval_views,
        loss_of,
        train_views,
    )

SOURCES = ("taleqani", "pbc", "bccd")
TRAIN, VAL = 0, 1
RELABEL_CLASSES = (2, 3, 4, 5, 6)
RELABEL_CONFIDENCE = 0.9
CONFIGS = {
    "s48": FineTuneConfig(size=48, suppress=True),
    "p48": FineTuneConfig(size=48, suppress=False),
    "s40": FineTuneConfig(size=40, suppress=True),
}
SETTINGS = {"all": None, "no_pbc": "pbc", "no_bccd": "bccd"}


def load_bundle(path: Path) -> dict[str, np.ndarray]:
    """``crops`` (N, S, S, 3) u8 BGR, ``mask`` (N, S, S) bool and the metadata columns."""
    with np.load(path) as z:
        raw, offsets, packed = z["jpeg"], z["jpeg_offsets"], z["masks"]
        meta = {k[2:]: z[k] for k in z.files if k.startswith("m_")}
    crops = [_decode(raw[offsets[i] : offsets[i + 1]], path) for i in range(len(offsets) - 1)]
    side = crops[0].shape[0]
    mask = np.unpackbits(packed, axis=1)[:, : side * side].reshape(-1, side, side).astype(bool)
    return {"crops": np.stack(crops), "mask": mask, **meta}


def _decode(data: np.ndarray, path: Path) -> np.ndarray:
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path}: a stored crop is not a readable JPEG; rebuild the bundle")
    return image


def train_model(
    data: dict[str, Any],
    rows: np.ndarray,
    labels: np.ndarray,
    imagenet: dict[str, torch.Tensor],
    config: FineTuneConfig,
    log=print,
    history: list[float] | None = None,
) -> FineNet:
    """Fine-tune every layer on ``rows`` of the bundle (tensors already on the device);
    ``history`` receives the mean training loss of each epoch."""
    device = data["crops"].device
    torch.manual_seed(config.seed)
    g = torch.Generator(device=device).manual_seed(config.seed)
    index = torch.from_numpy(rows).to(device)
    sample = index[torch.randperm(len(index), generator=g, device=device)[:1024]]
    views = eval_views(data["crops"][sample], data["mask"][sample], config)
    model = FineNet(imagenet, config.dropout, views).to(device)
    model = model.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    y = torch.from_numpy(labels[rows].astype(np.int64)).to(device)
    w = torch.from_numpy(balanced_weights(labels[rows], data["source_np"][rows])).to(device)
    _standardise_head(model, views)
    steps = max(1, len(rows) // config.batch)
    optimiser = torch.optim.AdamW(
        model.parameters(), config.lr, weight_decay=config.weight_decay, fused=device.type == "cuda"
    )
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, config.lr, total_steps=config.epochs * steps, pct_start=0.15
    )
    amp = device.type == "cuda"
    for epoch in range(config.epochs):
        model.train()
        order = torch.randperm(len(index), generator=g, device=device)
        total = 0.0
        for b in range(steps):
            pick = order[b * config.batch : (b + 1) * config.batch]
            i = index[pick]
            x = train_views(data["crops"][i], data["mask"][i], config, g)
            with torch.autocast(device.type, torch.bfloat16, enabled=amp):
                logits, _ = model(x.contiguous(memory_format=torch.channels_last))
            loss = loss_of(logits, y[pick], w[pick], config.label_smoothing)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]
            optimiser.step()
            schedule.step()
            total += float(loss.detach())
        log(f"  epoch {epoch + 1}/{config.epochs} loss {total / steps:.4f}")
        if history is not None:
            history.append(total / steps)
    return model.eval()


@torch.no_grad()
def _standardise_head(model: FineNet, views: torch.Tensor) -> None:
    """Feature mean/std of the ImageNet trunk on a sample: a fixed standardisation."""
    model.eval()
    _, features = model(views)
    model.head.mean.copy_(features.mean(0))
    model.head.std.copy_(features.std(0) + 1e-3)


@torch.no_grad()
def predict(model: FineNet, data, config: FineTuneConfig, batch: int = 1024) -> np.ndarray:
    """Logits (N, 7) of every bundle cell's evaluation view."""
    model.eval()
    out = []
    amp = data["crops"].device.type == "cuda"
    for s in range(0, len(data["crops"]), batch):
        x = eval_views(data["crops"][s : s + batch], data["mask"][s : s + batch], config)
        with torch.autocast(x.device.type, torch.bfloat16, enabled=amp):
            logits, _ = model(x.contiguous(memory_format=torch.channels_last))
        out.append(logits.float().cpu().numpy())
    return np.concatenate(out)


def relabel(data, bundle, exclude, imagenet, config, log=print) -> tuple[np.ndarray, dict]:
    """Labels after the label-noise step (module docstring) and what it changed."""
    labels = bundle["label"].copy()
    src, split = bundle["source"], bundle["split"]
    present = [s for s in (1, 2) if SOURCES[s] != exclude]
    typed = (split == TRAIN) & np.isin(src, present) & (labels >= 2)
    if exclude == "pbc" or not typed.any():
        return labels, {"rule": "none: no typed normal cells in this training"}
    short = FineTuneConfig(**{**config.__dict__, "epochs": max(4, config.epochs // 3)})
    model = train_model(data, np.flatnonzero(typed), labels, imagenet, short, log)
    p = torch.softmax(torch.from_numpy(predict(model, data, short)), 1).numpy()
    p[:, :2] = 0.0
    p /= p.sum(1, keepdims=True)
    best, top = p.argmax(1), p.max(1)
    hit = (src == 0) & np.isin(best, RELABEL_CLASSES) & (top >= RELABEL_CONFIDENCE)
    labels[hit] = best[hit]
    report = {
        "cells_of_ALL_fields_relabelled": f"{int((hit & (bundle['label'] == 0)).sum())}/"
        f"{int(((src == 0) & (bundle['label'] == 0)).sum())}",
        "cells_of_Benign_fields_relabelled": f"{int((hit & (bundle['label'] == 1)).sum())}/"
        f"{int(((src == 0) & (bundle['label'] == 1)).sum())}",
        "relabelled_to": {str(c): int((best[hit] == c).sum()) for c in RELABEL_CLASSES},
    }
    return labels, report


def _save_state(model: FineNet, setting: str, states: dict, path: Path) -> None:
    """All settings' state dicts of one configuration in one file (held-out ones in fp16)."""
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    if setting != "all":
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    states[setting] = state
    torch.save(states, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Fine-tune the cell network (see module docstring).")
    p.add_argument("--bundle", required=True)
    p.add_argument("--weights", required=True, help="ImageNet MobileNetV2 features state dict")
    p.add_argument("--out", required=True)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--configs", nargs="*", default=list(CONFIGS))
    p.add_argument("--settings", nargs="*", default=list(SETTINGS))
    p.add_argument("--epochs", type=int, default=None, help="override (smoke runs)")
    p.add_argument("--budget-s", type=float, default=1e9, help="start no training after this")
    p.add_argument("--limit", type=int, default=0, help="use the first N cells only (smoke)")
    args = p.parse_args(argv)
    run(args)
    return 0


def run(args: argparse.Namespace) -> dict:
    begun = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    torch.backends.cudnn.benchmark = True
    device = torch.device(args.device)
    bundle = load_bundle(Path(args.bundle))
    if args.limit:
        pick = np.random.default_rng(0).permutation(len(bundle["label"]))[: args.limit]
        bundle = {k: v[np.sort(pick)] for k, v in bundle.items()}
    data = {
        "crops": torch.from_numpy(bundle["crops"]).to(device),
        "mask": torch.from_numpy(bundle["mask"]).to(device),
        "source_np": bundle["source"],
    }
    imagenet = torch.load(args.weights, map_location=device)
    summary: dict = {"device": str(device), "cells": len(bundle["label"]), "runs": {}}
    logits: dict[str, Any] = {}
    states: dict[str, dict] = {}
    relabelled = {}
    for setting in args.settings:
        started = time.perf_counter()
        exclude = SETTINGS[setting]
        relabelled[setting] = relabel(data, bundle, exclude, imagenet, CONFIGS[args.configs[0]])
        summary["runs"][f"relabel_{setting}"] = {
            "noise": relabelled[setting][1],
            "seconds": time.perf_counter() - started,
        }
    for name in args.configs:
        for setting in args.settings:
            if time.perf_counter() - begun > args.budget_s:
                print(f"{name} {setting}: skipped, past the time budget", flush=True)
                continue
            exclude, labels = SETTINGS[setting], relabelled[setting][0]
            keep = bundle["split"] == TRAIN
            if exclude:
                keep &= bundle["source"] != SOURCES.index(exclude)
            config = CONFIGS[name]
            if args.epochs:
                config = FineTuneConfig(**{**config.__dict__, "epochs": args.epochs})
            print(f"{name} {setting}: {int(keep.sum())} training cells", flush=True)
            started = time.perf_counter()
            model = train_model(data, np.flatnonzero(keep), labels, imagenet, config)
            seconds = time.perf_counter() - started
            logits[f"{name}_{setting}"] = predict(model, data, config)
            logits[f"labels_{setting}"] = labels
            np.savez_compressed(out / "logits.npz", **logits)
            if setting in ("all", "no_pbc"):
                _save_state(model, setting, states.setdefault(name, {}), out / f"state_{name}.pt")
            summary["runs"][f"{name}_{setting}"] = {"seconds": seconds, "config": config.__dict__}
            (out / "summary.json").write_text(json.dumps(summary, indent=1))
            print(f"{name} {setting}: {seconds:.1f} s", flush=True)
    return summary


if __name__ == "__main__":
    raise SystemExit(main())
