"""``allscope train cells --finetune``: the fine-tuned cell model from crops to package.

1. Crops of every source into ``OUT/crops.npz`` (``finetune_data``; reused when present).
2. Training (``finetune_run``): every configuration on all sources, without PBC and without
   BCCD, on ``--device`` (``cpu`` works; a GPU is faster). ``--from-run DIR`` takes the logits
   and state dicts of a finished run (e.g. made on a GPU machine) instead.
3. Choices on validation and the BCCD-held-out figure (``finetune_pick``).
4. Export FP32 + INT8 (NNCF), the runtime's figures on validation and test splits, the
   site-adaptation sanity figures, ``summary.json`` and MODEL_CARD.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from allscope.core.model_package import CropSpec
from allscope.training.cells.finetune_data import build_bundle
from allscope.training.cells.finetune_pick import BCCD, CHOICE_RULE, PBC, SENSITIVITY_TARGET, choose
from allscope.training.cells.finetune_run import CONFIGS, SETTINGS
from allscope.training.cells.sources import CLASSES


def imagenet_state(path: Path) -> Path:
    """The ImageNet MobileNetV2 features as a torch state dict (what ``finetune_run`` loads)."""
    if not path.is_file():
        from allscope.training.architectures import DEFAULT_WEIGHTS_DIR
        from allscope.training.mobilenetv2 import (
            TFLITE_WEIGHTS,
            MobileNetV2,
            load_tflite_imagenet,
        )

        net = MobileNetV2(num_classes=2)
        load_tflite_imagenet(net, DEFAULT_WEIGHTS_DIR / TFLITE_WEIGHTS)
        torch.save(net.features.state_dict(), path)
    return path


def train(args: argparse.Namespace) -> dict:
    data, out, split = Path(args.data), Path(args.out), Path(args.split)
    out.mkdir(parents=True, exist_ok=True)
    bundle_path = out / "crops.npz"
    if not bundle_path.is_file():
        build_bundle(data, split, bundle_path)
    run_dir = Path(args.from_run) if args.from_run else out / "train"
    started = time.perf_counter()
    if not args.from_run:
        from allscope.training.cells.finetune_run import main as run_main

        run_main(
            [
                "--bundle",
                str(bundle_path),
                "--weights",
                str(imagenet_state(out / "imagenet.pt")),
                "--out",
                str(run_dir),
                "--device",
                args.device,
                "--configs",
                *args.configs,
            ]
        )
    with np.load(bundle_path) as z:
        meta = {k[2:]: z[k] for k in z.files if k.startswith("m_")}
    picked = choose(run_dir / "logits.npz", meta, list(args.configs))
    name = picked["chosen"]
    result = picked["results"][name]
    run_summary = json.loads((run_dir / "summary.json").read_text())
    summary = {
        "recipe": "fine-tuned",
        "configs": {k: v["choice"] for k, v in picked["results"].items()},
        "choice_rule": CHOICE_RULE,
        "chosen_config": name,
        "config": CONFIGS[name].__dict__,
        "label_noise": run_summary["runs"]["relabel_all"]["noise"],
        "training_device": run_summary["device"],
        "training_seconds": {k: v["seconds"] for k, v in run_summary["runs"].items()},
        "bundle_cells": int(len(meta["label"])),
        "held_out": result["held_out"],
        "threshold": result["recipe"]["threshold"],
        "temperature": result["recipe"]["temperature"],
        "threshold_rule": f"largest P(blast) threshold, capped at 0.5, keeping blast "
        f"sensitivity ≥ {SENSITIVITY_TARGET} on validation-block cells of ALL fields (after "
        "relabelling), on the bundle's validation views",
    }
    summary["pick_seconds"] = time.perf_counter() - started
    package_and_figures(args, summary, run_dir, name, result)
    return summary


def package_and_figures(args, summary: dict, run_dir: Path, name: str, result: dict) -> None:
    from allscope.training.cells.finetune_package import (
        ARCHITECTURE,
        adaptation_figures,
        export_finetuned,
        net_from_state,
        runtime_crops,
    )
    from allscope.training.cells.finetune_pick import calibrate
    from allscope.training.cells.package import (
        RUNTIME_THRESHOLD_RULE,
        calibration_batches,
        end_to_end,
        runtime_threshold,
    )
    from allscope.training.export import set_summary, update_meta

    data, out, split = Path(args.data), Path(args.out), Path(args.split)
    config = CONFIGS[name]
    crop = CropSpec(1.5, config.suppress)
    states = torch.load(run_dir / f"state_{name}.pt")
    shipped = net_from_state(states["all"])
    meta = {
        "kind": "cells",
        "name": "allscope-cells",
        "version": "2.1.0",
        "architecture": ARCHITECTURE,
        "classes": list(CLASSES),
        "blast_class": "blast",
        "input": {
            "width": config.size,
            "height": config.size,
            "color_order": "RGB",
            "layout": "NCHW",
            "mean": [127.5] * 3,
            "std": [127.5] * 3,
        },
        "crop": {
            "scale": crop.scale,
            "suppress_background": crop.suppress_background,
            "fill": list(crop.fill),
        },
        "output": "logits",
        "temperature": float(summary["temperature"]),
        "threshold": float(summary["threshold"]),
        "summary": {},
    }
    calibration = calibration_batches(data, split, crop, config.size)
    packages = export_finetuned(Path(args.package), out, shipped, config.size, meta, calibration)
    # The threshold the runtime uses is chosen on the runtime's own validation cells.
    summary["threshold_on_views"] = summary["threshold"]
    summary["threshold"], summary["validation_runtime"] = runtime_threshold(
        packages["INT8"], data, split
    )
    summary["threshold_rule"] = RUNTIME_THRESHOLD_RULE
    packages = {
        k: update_meta(p.path, threshold=summary["threshold"]) for k, p in packages.items()
    }
    summary.update(
        size=config.size,
        classes=list(CLASSES),
        precision="INT8",
        architecture=ARCHITECTURE,
        crop={"scale": crop.scale, "suppress_background": crop.suppress_background},
    )
    summary["end_to_end"] = end_to_end(packages, data, split)
    with np.load(run_dir / "logits.npz") as z, np.load(out / "crops.npz") as b:
        meta_rows = {k[2:]: b[k] for k in b.files if k.startswith("m_")}
        no_pbc = calibrate(z[f"{name}_no_pbc"], z["labels_no_pbc"], meta_rows, PBC)
    crops = runtime_crops(data, split, config.size, crop)
    summary.update(
        adaptation_figures(
            crops,
            shipped,
            net_from_state(states["no_pbc"]),
            summary["temperature"],
            no_pbc["temperature"],
            no_pbc["threshold"],
        )
    )
    summary["intended_use"] = "Screening aid at the microscope; not a diagnosis."
    summary["bccd_choice_source"] = BCCD
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float) + "\n")
    set_summary(args.package, json.loads(json.dumps(summary, default=float)))
    from allscope.core.model_package import seal_package
    from allscope.training.cells.card_finetune import write_card

    write_card(Path(args.package), summary)
    seal_package(args.package)  # the manifest covers the card too


def default_configs() -> list[str]:
    return list(CONFIGS)


__all__ = ["SETTINGS", "default_configs", "train"]
