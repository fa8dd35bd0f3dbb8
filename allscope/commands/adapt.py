"""``allscope adapt``: fit a cell package's blast decision to one laboratory's labelled cells.

    allscope adapt --base models/cells --cells DIR --out DIR2

DIR holds one subfolder per class (``blast``, ``normal`` or a class name of the package), one
cell per image. The local figures are printed before the package is written; nothing is
written when the adaptation is refused (too few cells, or worse than the base package).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from allscope.app.adaptation import (
    MIN_PER_CLASS,
    AdaptationRefused,
    LabelledSetError,
    evaluate,
    write,
)
from allscope.core.model_loading import load_cell_classifier
from allscope.core.model_package import ModelPackageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--base", type=Path, help="base cell package (default: models/cells)")
    parser.add_argument(
        "--cells",
        type=Path,
        required=True,
        metavar="DIR",
        help=f"labelled cells: one subfolder per class, at least 'blast' and "
        f"'normal', {MIN_PER_CLASS} or more cells of each",
    )
    parser.add_argument(
        "--out",
        type=Path,
        required=True,
        metavar="DIR2",
        help="folder for the adapted package (new or empty)",
    )
    parser.add_argument(
        "--sensitivity",
        type=float,
        default=0.98,
        help="blast sensitivity the threshold is chosen for (default 0.98)",
    )
    parser.add_argument("--json", type=Path, help="also write the local figures as JSON")


def run(args: argparse.Namespace) -> int:
    try:
        base = load_cell_classifier(args.base)
        plan = evaluate(base, args.cells, target_sensitivity=args.sensitivity)
    except (ModelPackageError, LabelledSetError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except AdaptationRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 3
    record = plan.record
    print(summary(record), file=sys.stderr)
    try:
        out = write(plan, args.out)
    except (FileExistsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"Adapted package written to {out}; use it with --cell-model {out}.", file=sys.stderr)
    return 0


def summary(record: dict) -> str:
    def line(name: str, f: dict) -> str:
        return (
            f"{name}: AUC {f['auc']:.3f} ({f['auc_ci95'][0]:.3f}-{f['auc_ci95'][1]:.3f}), "
            f"at threshold {f['threshold']:.3f} sensitivity {f['sensitivity']:.3f} "
            f"({f['sensitivity_ci95'][0]:.3f}-{f['sensitivity_ci95'][1]:.3f}), "
            f"specificity {f['specificity']:.3f} "
            f"({f['specificity_ci95'][0]:.3f}-{f['specificity_ci95'][1]:.3f})"
        )

    counts = record["counts"]
    return "\n".join(
        [
            f"{counts['blast']} blasts, {counts['other']} other cells "
            f"({len(record['skipped'])} skipped); {record['folds']}-fold cross-validation:",
            line("  adapted", record["local"]),
            line("  base, same cells", record["base_on_same_cells"]),
        ]
    )
