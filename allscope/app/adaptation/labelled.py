"""A laboratory's labelled cells: one folder per class, each image one cell.

Folder names are ``blast``, ``normal`` (any cell that is not a blast) or a class name of the
base package (``lymphocyte``, ``neutrophil``...); every one but ``blast`` counts as "not a
blast". Each image is masked with the paper's LAB K-means mask; when it holds several cells
the one nearest the image centre is used, and an image with no white cell is skipped and
reported. Every file is hashed, so the adapted package records exactly what it learnt from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.crops import cell_crops
from allscope.core.cells.detect import Cell, detect_cells
from allscope.core.frames import SourceError
from allscope.core.sources.images import find_images, load_image

BLAST, NORMAL = "blast", "normal"
BATCH = 32


class LabelledSetError(ValueError):
    """The labelled folder cannot be used; the message says why and what to do."""


@dataclass(frozen=True)
class LabelledCells:
    """The usable cells: base-package features, 1 for blast / 0 for the rest, and provenance."""

    features: np.ndarray  # (N, F) float32
    y: np.ndarray  # (N,) int
    base_p_blast: np.ndarray  # (N,) the base package's P(blast) on the same cells
    files: list[dict[str, str]]  # {"file", "class", "sha256"} per used cell
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (file, why)

    @property
    def counts(self) -> dict[str, int]:
        return {"blast": int(self.y.sum()), "other": int(len(self.y) - self.y.sum())}

    @property
    def sha256(self) -> str:
        """One digest of the whole set (class and hash of every file, in order)."""
        text = "\n".join(
            f"{f['class']}/{f['sha256']}"
            for f in sorted(self.files, key=lambda f: (f["class"], f["sha256"]))
        )
        return hashlib.sha256(text.encode()).hexdigest()


def class_folders(root: Path, classes: tuple[str, ...]) -> dict[str, Path]:
    """The class folders under ``root``; refuses unknown names and a set without both kinds."""
    if not root.is_dir():
        raise LabelledSetError(
            f"{root}: not a folder. Give a folder with one subfolder per "
            "class (at least 'blast' and 'normal')."
        )
    folders = {p.name: p for p in sorted(root.iterdir()) if p.is_dir()}
    allowed = {BLAST, NORMAL, *classes}
    unknown = sorted(set(folders) - allowed)
    if unknown:
        raise LabelledSetError(
            f"{root}: unknown class folder(s) {unknown}; use 'blast', "
            f"'normal' or a class of the base package: {sorted(classes)}."
        )
    if BLAST not in folders or not set(folders) - {BLAST}:
        raise LabelledSetError(
            f"{root}: needs a 'blast' folder and at least one folder of "
            "other cells ('normal' or a class name)."
        )
    return folders


def nearest_centre(cells: list[Cell], shape: tuple[int, ...]) -> Cell | None:
    cy, cx = shape[0] / 2.0, shape[1] / 2.0
    return min(
        cells, key=lambda c: (c.centroid[0] - cx) ** 2 + (c.centroid[1] - cy) ** 2, default=None
    )


def read_labelled(
    root: Path, base: CellClassifier, progress: Callable[[int, int], None] | None = None
) -> LabelledCells:
    """Every usable cell of the labelled folder with its base-package features."""
    folders = class_folders(root, base.classes)
    items = [(name, path) for name, folder in folders.items() for path in find_images([folder])]
    crops, y, files, skipped = [], [], [], []
    for done, (name, path) in enumerate(items, 1):
        try:
            image = load_image(path)
        except SourceError as exc:  # an unreadable file is reported, the rest still count
            skipped.append((str(path), f"unreadable: {exc}"))
            continue
        cell = nearest_centre(detect_cells(image), image.shape)
        if cell is None:
            skipped.append((str(path), "no white cell found by the mask"))
            continue
        crops.append(cell_crops(image, [cell], base.size, base.crop)[0])
        y.append(int(name == BLAST))
        files.append(
            {
                "file": str(path.relative_to(root)),
                "class": name,
                "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            }
        )
        if progress is not None:
            progress(done, len(items))
    if not crops:
        raise LabelledSetError(f"{root}: no usable cell image (JPEG, PNG, TIFF or BMP).")
    probabilities, features = _batched(base, np.stack(crops))
    base_p = base.p_blast(probabilities, features)
    return LabelledCells(features, np.asarray(y), base_p, files, skipped)


def _batched(base: CellClassifier, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    parts = [base.predict_crops(crops[i : i + BATCH]) for i in range(0, len(crops), BATCH)]
    return np.concatenate([p for p, _ in parts]), np.concatenate([f for _, f in parts])
