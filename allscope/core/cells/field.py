"""The cells of one field, judged in one batch: what a field result carries about its cells.

``judge_cells`` detects the white cells of a field (reusing the field's mask), cuts their
crops and runs the cell classifier once for the whole field; large cells are found and cut
on a reduced copy of the frame (``resolution``), their records always in the frame's
pixels. The answer, ``FieldCells``, is immutable (its arrays are read-only) and says whether
the cells could be judged at all: a field whose white-cell mask holds something but whose
cells cannot be judged is "needs a look", never a silent "no blast".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from allscope.core.cells.classifier import CellCall, CellClassifier
from allscope.core.cells.crops import cell_crops
from allscope.core.cells.detect import Cell, detect_cells
from allscope.core.cells.resolution import in_frame_pixels, reduced, working_scale
from allscope.core.results import MaskResult

NO_CELL_SEPARATED = "white-cell mask found, but no cell could be separated"
CELL_MODEL_FAILED = "the cell model could not judge this field"


@dataclass(frozen=True, slots=True)
class FieldCells:
    """Every cell of one field with its verdict (``calls``, in reading order).

    ``judged`` is False when the field holds white-cell pixels but its cells could not be
    judged (``reason`` says why); such a field needs a look by a person.
    """

    calls: tuple[CellCall, ...]
    threshold: float  # the P(blast) threshold in force when the cells were judged
    model: str  # the cell package in force: "name version (sha256 prefix)"
    judged: bool = True
    reason: str | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    track_ids: tuple[int | None, ...] = ()  # each cell's id in the tally (None: not counted)

    @property
    def blasts(self) -> int:
        return sum(1 for c in self.calls if c.is_blast)

    @property
    def p_blast_max(self) -> float:
        """The strongest cell evidence of the field (0 when it has no cell)."""
        return max((c.p_blast for c in self.calls), default=0.0)

    @property
    def suspicious(self) -> bool:
        return self.judged and self.blasts > 0


def package_label(classifier: CellClassifier) -> str:
    """The cell package in force, as sessions, saved cells and reports name it: name, version,
    IR SHA-256 prefix, and the site head's SHA-256 prefix when the package was adapted."""
    package = classifier.package
    head = f", site head {package.site_head.sha256[:12]}" if package.site_head else ""
    return f"{package.name} {package.version} ({package.sha256[:12]}{head})"


@dataclass(frozen=True, slots=True)
class FieldCrops:
    """A field's cells (in the frame's pixels) and their crops, cut but not yet judged."""

    cells: tuple[Cell, ...]
    crops: np.ndarray  # (N, size, size, 3) uint8, one per cell, in the same order
    wbc_count: int  # the field mask's white-cell candidates
    timings_ms: dict[str, float]


def cut_cells(classifier: CellClassifier, bgr: np.ndarray, mask: MaskResult) -> FieldCrops:
    """Detect every white cell of one field and cut its crop (raises ValueError for a bad
    field). Large cells are found and cut on a reduced copy (``resolution``)."""
    t0 = time.perf_counter()
    factor = working_scale(mask, classifier.size, classifier.crop.scale)
    image, work_mask = (bgr, mask) if factor == 1.0 else reduced(bgr, mask, factor)
    cells = detect_cells(image, work_mask)
    t1 = time.perf_counter()
    crops = cell_crops(image, cells, classifier.size, classifier.crop)
    t2 = time.perf_counter()
    if factor != 1.0:
        cells = [in_frame_pixels(cell, factor, bgr.shape) for cell in cells]
    timings = {"cell_detect": (t1 - t0) * 1e3, "cell_crop": (t2 - t1) * 1e3}
    return FieldCrops(tuple(cells), crops, mask.wbc_count, timings)


def judged(classifier: CellClassifier, cut: FieldCrops, probabilities: np.ndarray,
           features: np.ndarray, classify_ms: float) -> FieldCells:
    """The field's verdict from the model's outputs for its crops (rows in cell order)."""
    label, threshold = package_label(classifier), classifier.threshold
    timings = {**cut.timings_ms, "cell_classify": classify_ms}
    calls = classifier.calls(cut.cells, probabilities, features) if cut.cells else []
    frozen = tuple(_frozen(call) for call in calls)
    if not frozen and cut.wbc_count > 0:
        return FieldCells((), threshold, label, False, NO_CELL_SEPARATED, timings)
    return FieldCells(frozen, threshold, label, True, None, timings)


def not_judged(classifier: CellClassifier, error: Exception) -> FieldCells:
    """A field whose cells the model could not judge: it needs a look, never "no blast"."""
    reason = f"{CELL_MODEL_FAILED}: {error}"
    return FieldCells((), classifier.threshold, package_label(classifier), False, reason)


def judge_cells(classifier: CellClassifier, bgr: np.ndarray, mask: MaskResult) -> FieldCells:
    """Detect, crop and classify every white cell of one field in a single batch.

    Never raises for a bad field: a failure of the cell model is reported as a field that
    needs a look, so the stream goes on and nothing is silently dropped.
    """
    try:
        cut = cut_cells(classifier, bgr, mask)
        t0 = time.perf_counter()
        probabilities, features = classifier.predict_crops(cut.crops)
        classify_ms = (time.perf_counter() - t0) * 1e3
    except (ValueError, RuntimeError) as exc:
        return not_judged(classifier, exc)
    return judged(classifier, cut, probabilities, features, classify_ms)


def _frozen(call: CellCall) -> CellCall:
    """The call with its arrays made read-only, so a field result cannot be changed later."""
    call.cell.contour.setflags(write=False)
    call.features.setflags(write=False)
    return call
