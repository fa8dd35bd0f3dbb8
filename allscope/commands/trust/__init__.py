"""``allscope trust``: calibrate and check the trust features against the data beside the project.

Sub-commands (each prints what it measured, naming the data it used):

- ``colour-target``: colour statistics of the training fields → ``resources/colour_target.json``;
- ``calibrate-gate``: quality measures on the training fields, BCCD and the demo slide, and
  the thresholds they suggest;
- ``bccd``: BCCD WBC-box recall before/after normalisation, and BCCD fields flagged as ALL
  with the gate, calibration and abstention on;
- ``ood``: choose the out-of-distribution threshold on validation fields + BCCD, and write it
  into a model package's model.json;
- ``sensitivity``: ALL sensitivity on the validation split with and without gate and abstention;
- ``augment``: copy a package adding the "feature_map"/"features" outputs and the CAM head;
- ``cost``: added milliseconds per 1920×1080 frame for the gate and the normaliser.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from allscope.commands.trust import data_checks, model_checks
from allscope.core.model_loading import load_model_package, model_folder
from allscope.core.model_package import ModelPackageError
from allscope.paths import shared_data_dir

SHARED_DATA = shared_data_dir()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="allscope trust", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", type=Path, default=SHARED_DATA, help="folder holding all-fields/ and bccd/"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    target = sub.add_parser("colour-target", help="training colour statistics → JSON")
    target.add_argument(
        "--out", type=Path, default=None, help="output JSON (default: the shipped resource)"
    )
    gate = sub.add_parser("calibrate-gate", help="quality measures and suggested gate thresholds")
    gate.add_argument("--every", type=int, default=1, help="use every Nth field (speed)")
    for name, text in (
        ("bccd", "BCCD recall and flag rate"), ("sensitivity", "validation ALL sensitivity"),
        ("ood", "fit the OOD threshold into a package"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument(
            "--model", type=Path, default=None, help="model package (default: shipped)"
        )
        command.add_argument("--mode", choices=("none", "white", "reinhard"), default="reinhard",
                             help="colour normalisation (none = off)")
        command.add_argument(
            "--split", type=Path, default=None, help="split.json of the training run"
        )
    sub.choices["bccd"].add_argument(
        "--recall-only", action="store_true",
        help="only the mask's WBC-box recall, raw and with both modes (no model)",
    )
    sub.choices["ood"].add_argument(
        "--write", action="store_true", help="write the threshold into model.json"
    )
    sub.choices["ood"].add_argument("--target-rate", type=float, default=0.05,
                                    help="validation fields allowed beyond the threshold")
    augment_parser = sub.add_parser(
        "augment", help="copy a package adding feature_map/features outputs + CAM head"
    )
    augment_parser.add_argument(
        "--model", type=Path, default=None, help="source package (default: shipped)"
    )
    augment_parser.add_argument("--out", type=Path, required=True, help="new package folder")
    cost = sub.add_parser("cost", help="added ms per 1080p frame for gate + normalisation")
    cost.add_argument("--repeats", type=int, default=200)
    cost.add_argument(
        "--threads", type=int, default=1, help="OpenCV threads (the live pipeline uses all)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command not in ("cost", "augment") and not args.data.is_dir():
        print(
            f"{args.data}: data folder not found; pass --data FOLDER holding all-fields/ and "
            "bccd/.",
            file=sys.stderr,
        )
        return 2
    handler = {
        "colour-target": data_checks.colour_target,
        "calibrate-gate": data_checks.calibrate_gate,
        "bccd": model_checks.bccd,
        "sensitivity": model_checks.sensitivity,
        "ood": model_checks.fit_ood,
        "cost": data_checks.cost,
        "augment": augment,
    }[args.command]
    try:
        report = handler(args)
    except ModelPackageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


def augment(args: argparse.Namespace) -> dict:
    from allscope.training.cam_outputs import augment_package

    package = load_model_package(augment_package(model_folder(args.model), args.out))
    return {"written": str(package.path), "files": package.files}


if __name__ == "__main__":
    raise SystemExit(main())
