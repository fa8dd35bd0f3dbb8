"""The labelled cells of the three sources, cut by the application's own cell detector.

- ``taleqani`` (``all-fields``): every detected cell of a field takes the field's label: a
  cell of an ALL field is ``blast``, a cell of a Benign (hematogone) field ``lymphocyte``
  (benign lymphoid). The field's block split (``models/default/split.json``) is kept, so the
  field model's test blocks stay held out here too. The scale-bar corner is blanked before
  detection (a red bar would be masked as a cell, and its colour differs between classes).
- ``pbc``: one cell per image, the detected cell nearest the image centre, labelled by its
  folder (``ig``, ``erythroblast``, ``platelet`` → ``other``); split by a seeded hash of the
  file name (70/15/15).
- ``bccd``: cells whose centroid lies in a WBC box are normal white cells of unknown type
  (label ``NON_BLAST``: trained with a binary "not a blast" term); cells outside every WBC
  box are platelets, red-cell clumps and debris (``other``). Split by field, as for PBC.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from allscope.core.cells.detect import Cell, detect_cells
from allscope.evaluation.bccd import read_voc_dataset
from allscope.training.augment import blank_corner, scale_bar_box
from allscope.training.data import read_split

CLASSES = ("blast", "lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil", "other")
BLAST, LYMPHOCYTE, OTHER = 0, 1, 6
NON_BLAST = -1  # a normal white cell of unknown type
PBC_FOLDERS = {
    "lymphocyte": 1,
    "neutrophil": 2,
    "monocyte": 3,
    "eosinophil": 4,
    "basophil": 5,
    "ig": OTHER,
    "erythroblast": OTHER,
    "platelet": OTHER,
}
SOURCES = ("taleqani", "pbc", "bccd")


@dataclass(frozen=True)
class FieldCells:
    """One image of a source with its detected cells and a label per cell."""

    source: str
    name: str  # path relative to the source root
    split: str  # train, val or test
    image: np.ndarray  # uint8 BGR, as the detector saw it
    cells: tuple[Cell, ...]
    labels: tuple[int, ...]  # class index per cell, or NON_BLAST
    field_class: str  # the folder the image came from


def hashed_split(name: str, seed: int = 0) -> str:
    """A stable 70/15/15 train/val/test assignment from the name alone."""
    u = zlib.crc32(f"{seed}:{name}".encode()) / 2**32
    return "val" if u < 0.15 else "test" if u < 0.30 else "train"


def taleqani_fields(root: Path, split_json: Path) -> Iterator[FieldCells]:
    """The B-ALL fields, per the field model's block split."""
    for split, samples in read_split(split_json).items():
        for sample in samples:
            image = cv2.imread(str(root / sample.name), cv2.IMREAD_COLOR)
            if image is None:
                raise FileNotFoundError(f"{root / sample.name}: missing or unreadable")
            image = blank_corner(image)
            x0, y0, _, _ = scale_bar_box(image.shape)
            cells = tuple(
                c for c in detect_cells(image) if not (c.centroid[0] >= x0 and c.centroid[1] >= y0)
            )
            folder = sample.name.split("/")[0]
            label = LYMPHOCYTE if folder == "Benign" else BLAST
            yield FieldCells(
                "taleqani", sample.name, split, image, cells, (label,) * len(cells), folder
            )


def pbc_cells(root: Path) -> Iterator[FieldCells]:
    """The PBC single-cell images: the cell nearest the centre, labelled by folder."""
    for folder, label in PBC_FOLDERS.items():
        for path in sorted((root / folder).glob("*.jpg")):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                continue
            cells = detect_cells(image)
            if not cells:
                continue
            h, w = image.shape[:2]
            centre = min(cells, key=lambda c: math.dist(c.centroid, (w / 2, h / 2)))
            name = f"{folder}/{path.name}"
            yield FieldCells("pbc", name, hashed_split(name), image, (centre,), (label,), folder)


def bccd_cells(root: Path) -> Iterator[FieldCells]:
    """BCCD fields: WBC-box cells as NON_BLAST, the rest as ``other``."""
    for field in read_voc_dataset(root):
        image = cv2.imread(str(field.image), cv2.IMREAD_COLOR)
        if image is None:
            continue
        cells = tuple(detect_cells(image))
        boxes = field.boxes.get("WBC", ())
        labels = tuple(
            NON_BLAST
            if any(b[0] <= c.centroid[0] <= b[2] and b[1] <= c.centroid[1] <= b[3] for b in boxes)
            else OTHER
            for c in cells
        )
        name = field.image.name
        yield FieldCells("bccd", name, hashed_split(name), image, cells, labels, "normal")


def all_sources(data: Path, split_json: Path) -> Iterator[FieldCells]:
    """Every source under ``data`` (``all-fields``, ``pbc-cells``, ``bccd``)."""
    yield from taleqani_fields(data / "all-fields", split_json)
    yield from pbc_cells(data / "pbc-cells")
    yield from bccd_cells(data / "bccd")
