"""The cell half of ``allscope analyze``: the cell model, the cells CSV, crops and the tally.

Columns of ``--cells FILE.csv`` (one row per detected cell, in field then reading order)::

    source,frame,cell,x,y,width,height,label,p_blast,is_blast,p_<class>...,diameter_<unit>

(``p_<class>`` for every class but the blast class, whose probability is ``p_blast``.)

x, y, width, height: the cell's bounding box in the source image's pixels; ``label``: ``blast``
when the cell is called a blast (``is_blast`` 1: P(blast) at or above the threshold in force),
else the most probable other class; ``diameter_um`` when ``--um-per-px`` gives the scale,
else ``diameter_px`` (equivalent diameter of the cell's area). The JSON's ``fields[].cells[]``
hold the same keys. Every file is written atomically; the CSV goes through the one table
writer (``allscope.report.tables``: formula-safe, UTF-8 with a byte-order mark).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import cv2

from allscope.core.batch import BatchReport
from allscope.core.cells.classifier import CellCall, CellClassifier
from allscope.core.cells.crops import cell_crop, crop_box
from allscope.core.cells.field import FieldCells
from allscope.core.cells.tally import DEFAULT_TARGET, Tally, called_label
from allscope.core.frames import Frame
from allscope.core.model_loading import cell_model_folder, has_cell_package, load_cell_classifier
from allscope.core.results import FieldResult
from allscope.core.store.files import atomic_write
from allscope.report.tables import write_csv_table

KEYS = ("source", "frame", "cell", "x", "y", "width", "height", "label", "p_blast", "is_blast")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    default = cell_model_folder()
    parser.add_argument(
        "--cell-model",
        type=Path,
        metavar="DIR",
        help=f"cell model package (default: {default}, when present)",
    )
    parser.add_argument("--no-cell-model", action="store_true", help="judge whole fields only")
    parser.add_argument(
        "--cells",
        type=Path,
        metavar="FILE.csv",
        help="write one row per detected white cell (bounding box, label, "
        "P(blast), is_blast and a probability per class)",
    )
    parser.add_argument(
        "--cell-crops",
        type=Path,
        metavar="DIR",
        help="write a PNG crop of every detected white cell into this folder",
    )
    parser.add_argument(
        "--um-per-px",
        type=float,
        metavar="UM",
        help="image scale in micrometres per pixel: cell diameters in µm",
    )
    parser.add_argument(
        "--target",
        type=int,
        default=DEFAULT_TARGET,
        help=f"white cells for a complete count (default {DEFAULT_TARGET})",
    )


def requested_cell_classifier(args: argparse.Namespace) -> CellClassifier | None:
    """The named or default cell model; None without one (said once when cells were asked).

    Raises ModelPackageError for a named package that cannot be used."""
    if args.no_cell_model:
        return None
    if args.cell_model is None and not has_cell_package():
        if args.cells or args.cell_crops:
            print(f"No cell model package at {cell_model_folder()}: name one with "
                  "--cell-model DIR.", file=sys.stderr)
        return None
    return load_cell_classifier(args.cell_model)


def tally_line(tally: Tally) -> str:
    """The tally in one sentence for the terminal."""
    share = "" if tally.blast_fraction is None else f" ({100 * tally.blast_fraction:.1f}%)"
    done = "; count complete" if tally.complete else ""
    return f"{tally.wbc} white cells judged, {tally.blasts} called blast{share}{done}."


def cell_record(
    result: FieldResult,
    call: CellCall,
    classes: tuple[str, ...],
    blast_class: str,
    um_per_px: float | None,
) -> dict[str, Any]:
    """One cell with the CSV's keys, in the CSV's order."""
    x, y, w, h = call.cell.bbox
    record: dict[str, Any] = {
        "source": result.path or result.source,
        "frame": result.frame_index,
        "cell": call.cell.index,
        "x": x,
        "y": y,
        "width": w,
        "height": h,
        "label": called_label(call.probabilities, call.is_blast, blast_class),
        "p_blast": float(call.p_blast),
        "is_blast": int(call.is_blast),
    }
    record |= {f"p_{c}": float(call.probabilities[c]) for c in classes if f"p_{c}" not in record}
    if um_per_px:
        record["diameter_um"] = round(call.cell.diameter_px * um_per_px, 2)
    else:
        record["diameter_px"] = round(call.cell.diameter_px, 2)
    return record


def field_cells(
    result: FieldResult, classifier: CellClassifier, um_per_px: float | None
) -> list[dict[str, Any]]:
    if result.cells is None:
        return []
    blast = str(classifier.package.blast_class)
    return [
        cell_record(result, c, classifier.classes, blast, um_per_px)
        | {"probabilities": dict(c.probabilities)}
        for c in result.cells.calls
    ]


def field_extras(
    result: FieldResult, classifier: CellClassifier | None, um_per_px: float | None
) -> dict[str, Any]:
    """What a field's JSON record gains with a cell model."""
    if classifier is None:
        return {}
    cells = result.cells
    return {
        "cells_judged": result.cells_judged,
        "needs_look": result.needs_look,
        "suspicious": result.suspicious,
        "subtype": result.subtype,
        "blasts": None if cells is None else cells.blasts,
        "cells": field_cells(result, classifier, um_per_px),
    }


def document_extras(report: BatchReport, classifier: CellClassifier | None) -> dict[str, Any]:
    """The JSON's top-level ``cell_model`` and ``tally``."""
    if classifier is None:
        return {"cell_model": None, "tally": None}
    package = classifier.package
    model = {
        "name": package.name,
        "version": package.version,
        "sha256": package.sha256,
        "threshold": classifier.threshold,
        "site_head": package.site_head is not None,
    }
    return {"cell_model": model, "tally": report.tally.to_dict() if report.tally else None}


def class_columns(classes: tuple[str, ...]) -> list[str]:
    """``p_<class>`` per class; the blast class's column is the ``p_blast`` key itself (with a
    site-adapted package that is the adapted P(blast); JSON keeps the base model's
    probabilities under ``probabilities``)."""
    return [f"p_{c}" for c in classes if f"p_{c}" not in KEYS]


def write_cells_csv(
    path: Path, report: BatchReport, classifier: CellClassifier, um_per_px: float | None
) -> None:
    blast = str(classifier.package.blast_class)
    records = [
        cell_record(result, call, classifier.classes, blast, um_per_px)
        for result in report.results
        if result.cells is not None
        for call in result.cells.calls
    ]
    header = [
        *KEYS,
        *class_columns(classifier.classes),
        "diameter_um" if um_per_px else "diameter_px",
    ]
    rows = [[record[k] for k in header] for record in records]
    write_csv_table(path, header, rows, overwrite=True)  # the run's output: replaced


class CropWriter:
    """Writes each cell's square crop (side = the model's crop scale × its diameter, at the
    source's resolution) as ``<field>[_<frame>]_c<cell>_<label>.png``, atomically."""

    def __init__(self, folder: Path, classifier: CellClassifier) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.classifier = folder, classifier
        self._used: set[str] = set()

    def __call__(self, frame: Frame, cells: FieldCells) -> None:
        blast = str(self.classifier.package.blast_class)
        stem = re.sub(r"[^\w.-]+", "_", frame.name or f"frame_{frame.id}")
        if frame.frame_index is not None and not stem.endswith(str(frame.frame_index)):
            stem = f"{stem}_{frame.frame_index}"
        while stem in self._used:
            stem += "+"
        self._used.add(stem)
        scale = self.classifier.crop.scale
        for call in cells.calls:
            side = crop_box(call.cell, scale)[2]
            crop = cell_crop(frame.image, call.cell, side, scale, False)
            ok, png = cv2.imencode(".png", crop)
            if not ok:
                raise OSError(f"cell {call.cell.index} of {frame.name}: PNG encoding failed.")
            label = called_label(call.probabilities, call.is_blast, blast)
            atomic_write(self.folder / f"{stem}_c{call.cell.index:03d}_{label}.png", png.tobytes())
