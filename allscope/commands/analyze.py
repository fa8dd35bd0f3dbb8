"""allscope analyze: batch analysis of images, folders and videos into JSON, CSV, masks and a
PDF report."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from allscope import __version__
from allscope.commands import analyze_cells
from allscope.commands.analyze_outputs import (
    MaskWriter,
    check_file_destination,
    check_folder_destination,
)
from allscope.commands.interrupts import Interrupted, interruptible
from allscope.commands.progress import BatchProgress
from allscope.core.batch import BatchAnalyzer, BatchReport, expected_fields
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import package_label
from allscope.core.classifier import Classifier
from allscope.core.frames import SourceError
from allscope.core.model_loading import has_model_package, model_folder
from allscope.core.model_loading import load_classifier as load_model
from allscope.core.model_package import DEFAULT_MODEL_DIR, ModelPackageError
from allscope.core.results import FieldResult, Flag
from allscope.core.text import printable
from allscope.report.tables import number, write_csv_table, write_json_document


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs", nargs="+", metavar="INPUT", help="image files, folders (recursive) or video files"
    )
    parser.add_argument(
        "--model", type=Path, help=f"model package directory (default: {DEFAULT_MODEL_DIR})"
    )
    parser.add_argument("--no-model", action="store_true", help="masks and WBC counts only")
    parser.add_argument("--json", type=Path, help="write per-field results and flags as JSON")
    parser.add_argument("--csv", type=Path, help="write per-field results as CSV")
    parser.add_argument(
        "--masks", type=Path, help="write one 8-bit PNG mask (0/255) per field into this folder"
    )
    parser.add_argument(
        "--threshold", type=probability, help="P(ALL) flag threshold (default: the model's)"
    )
    parser.add_argument(
        "--normalize",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="normalise each field's colour toward the training data for the mask and the "
        "field model, as the app does; cells are judged on the recorded colours (default: on; "
        "--no-normalize analyses the colours as recorded)",
    )
    parser.add_argument(
        "--progress",
        action="store_true",
        help="print progress lines (count, percentage, rate, time left) every few seconds, "
        "for logs; on a terminal a progress bar is shown anyway",
    )
    parser.add_argument("--pdf", type=Path, help="write a PDF report and save the run as a session")
    parser.add_argument("--patient", default="", help="patient or sample ID for the report")
    parser.add_argument("--slide", default="", help="slide ID for the report")
    parser.add_argument("--accession", default="", help="report or accession number for the report")
    parser.add_argument(
        "--birth-date", default="", help="patient's date of birth (second identifier)"
    )
    parser.add_argument(
        "--collected", default="", help="sample collection date (second identifier)"
    )
    parser.add_argument("--clinician", default="", help="requesting clinician for the report")
    parser.add_argument("--operator", default="", help="operator name for the report")
    parser.add_argument("--lab", default="", help="laboratory name for the report header")
    parser.add_argument("--logo", type=Path, help="laboratory logo image for the report header")
    analyze_cells.add_arguments(parser)


def probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def requested_classifier(
    model: Path | None, no_model: bool, mode: str = "throughput"
) -> Classifier | None:
    """The requested or default model; None (with one message) when there is none."""
    if no_model:
        return None
    if model is None and not has_model_package():
        print(
            f"No model package at {model_folder()}: writing masks and WBC counts only "
            "(no classification).",
            file=sys.stderr,
        )
        return None
    return load_model(model, mode=mode)


def field_record(result: FieldResult) -> dict:
    probabilities = result.probability_map()
    return {
        "source": result.path or result.source,
        "frame": result.frame_index,
        "status": "ok",
        "error": None,
        "assessable": result.assessable,
        "reasons": list(result.reasons),
        "wbc_count": result.wbc_count,
        "probabilities": probabilities,
        "label": result.label,
        "p_all": result.p_all,
        "flagged": result.flagged,
    }


def flag_record(flag: Flag) -> dict:
    return {
        "source": flag.result.path or flag.source,
        "start_frame": flag.start_index,
        "end_frame": flag.end_index,
        "label": flag.label,
        "p_all": flag.p_all,
    }


def report_json(
    report: BatchReport, classifier: Classifier | None, normalize: bool = False,
    cell_classifier: CellClassifier | None = None, um_per_px: float | None = None,
) -> dict:
    model = None
    if classifier is not None:
        package = classifier.package
        model = {"name": package.name, "version": package.version, "sha256": package.sha256}
    fields = [field_record(r) | analyze_cells.field_extras(r, cell_classifier, um_per_px)
              for r in report.results]
    fields += [
        {
            "source": e.source,
            "frame": e.frame,
            "status": "error",
            "error": e.error,
            "assessable": False,
            "reasons": [],
            "wbc_count": None,
            "probabilities": None,
            "label": None,
            "p_all": None,
            "flagged": False,
        }
        for e in report.errors
    ]
    return {
        "allscope_version": __version__,
        "model": model,
        "threshold": None if classifier is None else report.threshold,
        # the colour normalisation every field went through before masking (None: raw colours)
        "colour_normalisation": "reinhard" if normalize else None,
        "fields": fields,
        "flags": [flag_record(f) for f in report.flags],
        **analyze_cells.document_extras(report, cell_classifier),
    }


ANALYZE_COLUMNS = (
    "source",
    "frame",
    "status",
    "error",
    "assessable",
    "reasons",
    "wbc_count",
    "label",
    "p_all",
    "flagged",
)


def write_csv(path: Path, records: list[dict], classes: tuple[str, ...]) -> Path:
    """One row per field (and per unreadable input), a ``p_<class>`` column per class."""
    rows = []
    for record in records:
        probabilities = record["probabilities"] or {}
        row = [record[c] if c != "reasons" else "; ".join(record[c]) for c in ANALYZE_COLUMNS]
        rows.append(row + [number(probabilities.get(c)) for c in classes])
    header = [*ANALYZE_COLUMNS, *(f"p_{c}" for c in classes)]
    return write_csv_table(path, header, rows, overwrite=True)  # the run's output: replaced


def run(args: argparse.Namespace) -> int:
    """Check the destinations, analyse, then write each output atomically. Exit status: 0 done,
    1 nothing analysable, 2 bad model/input/destination, 3 an output could not be written,
    130/143 interrupted (nothing half-written is left; earlier files are unchanged)."""
    problems = destination_problems(args)
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        print("Nothing was analysed and no file was changed.", file=sys.stderr)
        return 2
    with interruptible():
        try:
            return _run(args)
        except Interrupted as exc:
            print(f"\nallscope analyze was stopped ({exc.signal_name}): no result file was "
                  "written or changed by this run; masks already written are complete files.",
                  file=sys.stderr)
            return 128 + exc.signal_number


def destination_problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with each requested destination, found before any field is analysed."""
    checks = [check_file_destination(getattr(args, o), f"--{o}")
              for o in ("json", "csv", "pdf", "cells") if getattr(args, o, None)]
    if args.masks:
        checks.append(check_folder_destination(args.masks, "--masks"))
    if getattr(args, "cell_crops", None):
        checks.append(check_folder_destination(args.cell_crops, "--cell-crops"))
    return [c for c in checks if c]


def _run(args: argparse.Namespace) -> int:
    try:
        classifier = requested_classifier(args.model, args.no_model)
        cell_classifier = analyze_cells.requested_cell_classifier(args)
    except ModelPackageError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    policy = None
    if args.threshold is not None:
        from allscope.core.flags import FlagPolicy

        policy = FlagPolicy(threshold=args.threshold)
    if (args.cells or args.cell_crops) and cell_classifier is None:
        print("error: --cells and --cell-crops need a cell model (--cell-model DIR).",
              file=sys.stderr)
        return 2
    crops = None
    if args.cell_crops and cell_classifier is not None:
        crops = analyze_cells.CropWriter(args.cell_crops, cell_classifier)
    analyzer = BatchAnalyzer(classifier, policy, MaskWriter(args.masks) if args.masks else None,
                             keep_flagged_frames=args.pdf is not None, normalize=args.normalize,
                             cell_classifier=cell_classifier, cell_sink=crops,
                             cell_target=args.target)
    try:
        bar = BatchProgress(expected_fields(args.inputs), "log" if args.progress else "auto")
        started = time.monotonic()
        report = analyzer.run(args.inputs, bar)
    except SourceError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:  # a mask could not be written: the disk is full or went away
        print(f"error: {printable(str(exc))} The analysis was stopped; no report was written.",
              file=sys.stderr)
        return 3
    bar.close()
    for error in report.errors:
        shown = printable(error.error)
        print(f"not analysed: {shown}" if error.source in error.error
              else f"not analysed: {printable(error.source)}: {shown}", file=sys.stderr)
    status = _write_outputs(args, report, classifier, cell_classifier)
    if status:
        return status
    colour = colour_note(args.normalize, classifier is not None, cell_classifier is not None)
    print(
        f"{report.analysed} fields analysed in {time.monotonic() - started:.1f} s ({colour}), "
        f"{len(report.errors)} unreadable, {len(report.flags)} flagged.",
        file=sys.stderr,
    )
    if report.tally is not None:
        print(analyze_cells.tally_line(report.tally), file=sys.stderr)
    return 0 if report.analysed else 1


def _write_outputs(args: argparse.Namespace, report: BatchReport,
                   classifier: Classifier | None, cell_classifier: CellClassifier | None) -> int:
    document = report_json(report, classifier, args.normalize, cell_classifier, args.um_per_px)
    try:
        if args.json:
            write_json_document(args.json, document, overwrite=True)
        if args.cells and cell_classifier is not None:
            analyze_cells.write_cells_csv(args.cells, report, cell_classifier, args.um_per_px)
        if args.csv:
            write_csv(args.csv, document["fields"], classifier.classes if classifier else ())
    except OSError as exc:
        print(f"error: {printable(str(exc))} The previous file of that name, if any, is unchanged.",
              file=sys.stderr)
        return 3
    if args.pdf:
        write_pdf(args, report, classifier,
                  package_label(cell_classifier) if cell_classifier is not None else "")
    return 0


def colour_note(normalize: bool, field_model: bool, cells: bool) -> str:
    """Which colours each part of the analysis saw (``BatchAnalyzer``): the mask and the field
    model see the colour-normalised frame, the cells are cut and judged on the recorded pixels."""
    if not normalize:
        return "colours analysed as recorded"
    note = f"{'mask and field model' if field_model else 'mask'} on colour-normalised frames"
    return f"{note}; cells judged on the recorded colours" if cells else note


def write_pdf(args: argparse.Namespace, report: BatchReport, classifier: Classifier | None,
              cell_model: str = "") -> None:
    from allscope.commands.sessions import write_batch_report

    info = {
        "patient_id": args.patient,
        "slide_id": args.slide,
        "operator": args.operator,
        "lab_name": args.lab,
        "source": ", ".join(map(str, args.inputs)),
        "accession": args.accession,
        "date_of_birth": args.birth_date,
        "collection_date": args.collected,
        "clinician": args.clinician,
        "notes": colour_note(args.normalize, classifier is not None, bool(cell_model)),
        "cell_model": cell_model,
    }
    names = ", ".join(Path(p).name or str(p) for p in args.inputs)
    name = f"Batch: {names[:60]} ({report.analysed} fields)"
    write_batch_report(report, classifier, args.pdf, info, name=name, logo=args.logo)
