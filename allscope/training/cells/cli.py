"""``allscope train cells``: train, export and time the cell classifier package.

    allscope train cells --finetune --device cuda --data ../shared/data --out runs/cells-ft \
                         --package models/cells
    allscope train cells --data ../shared/data --out runs/cells --package models/cells
    allscope train cells compare --package models/cells --compare OTHER [--which val]
    allscope train cells bench --package models/cells [--compare runs/cells/fp32]
                         [--fields ../shared/data/all-fields] [--count 200]

The first reproduces ``models/cells`` (the fine-tuned network: ``finetune_main``; ``--device
cpu`` runs the same code); the second the earlier frozen-trunk recipe (features, label
noise, choice of variant, held-out figures, INT8 export, end-to-end check, MODEL_CARD.md);
``compare`` judges every detected cell of a split with two packages through the runtime;
``bench`` times the cell stages per field and per cell, packages side by side in one process.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3].parent / "shared"


def _train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="allscope train cells", description="Train the cell classifier."
    )
    p.add_argument(
        "--data",
        default=str(SHARED / "data"),
        help="folder holding all-fields/, pbc-cells/ and bccd/",
    )
    p.add_argument("--out", required=True, help="run folder (features.npz, summary.json, fp32/)")
    p.add_argument("--package", required=True, help="where to write the INT8 package")
    p.add_argument("--split", default="models/default/split.json", help="the field block split")
    p.add_argument("--train-cells-per-field", type=int, default=3, help="train-split fields")
    p.add_argument("--eval-cells-per-field", type=int, default=4, help="val/test fields")
    p.add_argument("--augmented-views", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--finetune",
        action="store_true",
        help="fine-tune the whole network (the shipped recipe) instead of a frozen-trunk head",
    )
    p.add_argument("--device", default="cpu", help="--finetune: torch device (cpu, cuda)")
    p.add_argument(
        "--from-run",
        default=None,
        help="--finetune: a finished training run (logits.npz, state_*.pt) to package instead",
    )
    p.add_argument(
        "--configs", nargs="*", default=None, help="--finetune: configurations to compare"
    )
    return p


def _bench_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="allscope train cells bench", description="Time the cell stages."
    )
    p.add_argument("--package", default="models/cells")
    p.add_argument("--compare", default=None, help="a second package timed beside it (e.g. FP32)")
    p.add_argument("--fields", default=str(SHARED / "data" / "all-fields"))
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--repeats", type=int, default=3)
    return p


def _compare_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="allscope train cells compare",
        description="Two cells packages through the runtime on every detected cell of a split.",
    )
    p.add_argument("--package", default="models/cells")
    p.add_argument("--compare", required=True, help="the package judged beside it")
    p.add_argument("--data", default=str(SHARED / "data"))
    p.add_argument("--split", default="models/default/split.json")
    p.add_argument("--which", default="val", choices=("train", "val", "test"))
    p.add_argument("--json", default=None, help="also write the figures to this file")
    return p


def _recalibrate_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="allscope train cells recalibrate",
        description="Choose a cells package's P(blast) threshold again on the cells its own "
        "runtime finds in the validation blocks, and measure its card's runtime figures again.",
    )
    p.add_argument("--package", default="models/cells", help="the package, rewritten in place")
    p.add_argument("--data", default=str(SHARED / "data"))
    p.add_argument("--split", default="models/default/split.json")
    p.add_argument("--version", default=None, help="the package's new version (default: kept)")
    return p


def _recalibrate(args: argparse.Namespace) -> int:
    from allscope.training.cells.recalibrate import recalibrate

    summary = recalibrate(Path(args.package), Path(args.data), Path(args.split), args.version)
    before = summary["threshold_history"][-1]["threshold"]
    print(f"{args.package}: P(blast) threshold {before:.4f} -> {summary['threshold']:.4f}")
    for m in summary["end_to_end"][summary["precision"]]:
        print(f"{m['metric']} | {m['split']} | {m['value']:.3f} {m.get('count', '')}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from allscope.core.model_package import load_package
    from allscope.training.cells.package import end_to_end

    packages = {"compare": load_package(args.compare), "package": load_package(args.package)}
    report = end_to_end(packages, Path(args.data), Path(args.split), args.which)
    for old, new in zip(report["compare"], report["package"], strict=True):
        print(
            f"{old['metric']} | {old['split']} | compare {old['value']:.3f} "
            f"{old.get('count', '')} | package {new['value']:.3f} {new.get('count', '')}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "bench":
        return _bench(_bench_parser().parse_args(argv[1:]))
    if argv and argv[0] == "compare":
        return _compare(_compare_parser().parse_args(argv[1:]))
    if argv and argv[0] == "recalibrate":
        return _recalibrate(_recalibrate_parser().parse_args(argv[1:]))
    args = _train_parser().parse_args(argv)
    if args.finetune:
        from allscope.training.cells.finetune_main import default_configs, train

        args.configs = args.configs or default_configs()
        train(args)
        print(f"wrote {args.package}; figures in {Path(args.out) / 'summary.json'}")
        return 0
    return _train(args)


def _bench(args: argparse.Namespace) -> int:
    from allscope.training.cells.latency import load_fields, time_cells

    packages = {"package": Path(args.package)}
    if args.compare:
        packages["compare"] = Path(args.compare)
    result = time_cells(packages, load_fields(Path(args.fields), args.count), args.repeats)
    print(json.dumps(result, indent=1))
    return 0


def _train(args: argparse.Namespace) -> int:
    from allscope.training.cells.card import write_card
    from allscope.training.cells.export import describe_variant
    from allscope.training.cells.features import Budget
    from allscope.training.cells.package import calibration_batches, end_to_end, export_both
    from allscope.training.cells.pipeline import SIZE, VARIANTS, run
    from allscope.training.cells.sources import CLASSES
    from allscope.training.cells.train import SENSITIVITY_TARGET
    from allscope.training.export import set_summary

    data, out, split = Path(args.data), Path(args.out), Path(args.split)
    budget = Budget(
        args.train_cells_per_field, args.eval_cells_per_field, args.augmented_views, args.seed
    )
    result = run(data, out, budget, split_json=split)
    summary, recipe = result["summary"], result["recipe"]
    variant = next(v for v in VARIANTS if v.name == result["variant"])
    summary.update(
        {
            "architecture": describe_variant(variant),
            "size": SIZE,
            "classes": list(CLASSES),
            "precision": "INT8",
            "crop": {
                "scale": variant.crop.scale,
                "suppress_background": variant.crop.suppress_background,
            },
            "threshold_rule": f"largest P(blast) threshold, capped at 0.5, keeping blast "
            f"sensitivity ≥ {SENSITIVITY_TARGET} on validation-block cells of ALL fields "
            "(after relabelling)",
            "intended_use": "Screening aid at the microscope; not a diagnosis.",
        }
    )
    calibration = calibration_batches(data, split, variant.crop, SIZE)
    packages = export_both(Path(args.package), out, recipe, variant, SIZE, summary, calibration)
    summary["end_to_end"] = end_to_end(packages, data, split)
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=float) + "\n")
    set_summary(args.package, json.loads(json.dumps(summary, default=float)))
    write_card(Path(args.package), summary)
    print(
        f"wrote {packages['INT8'].describe()} to {args.package}; figures in {out / 'summary.json'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
