"""Immutable records that flow from the pipeline to flags, sessions, reports and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from allscope.core.cells.field import FieldCells


@dataclass(frozen=True, slots=True)
class WbcCandidate:
    """One connected component of the WBC mask."""

    area: int
    bbox: tuple[int, int, int, int]  # x, y, width, height
    centroid: tuple[float, float]  # x, y


@dataclass(frozen=True, slots=True)
class MaskResult:
    """Output of the LAB K-means masking of one field."""

    mask: np.ndarray  # uint8 (H, W), 0 or 255
    masked: np.ndarray  # uint8 BGR (H, W, 3): the field with non-WBC pixels set to 0
    candidates: tuple[WbcCandidate, ...]
    centers: np.ndarray  # float64 (k,), sorted a-channel cluster centres
    inertia: float

    @property
    def wbc_count(self) -> int:
        return len(self.candidates)

    @property
    def coverage(self) -> float:
        """Fraction of the field's pixels inside the mask."""
        return float(np.count_nonzero(self.mask)) / max(1, self.mask.size)


@dataclass(frozen=True, slots=True)
class FieldResult:
    """What the pipeline concluded about one frame.

    ``probabilities`` is None when the frame was not classified (no model, not assessable,
    or skipped because inference was busy). ``p_all`` = 1 - P(benign).

    ``cells`` holds the cell model's verdict on every white cell (None when no cell model
    ran on this field). With cells judged, the field is suspicious when at least one cell is
    called a blast, and the field model only reads the ``subtype`` of a suspicious field.
    """

    frame_id: int
    timestamp: float
    source: str
    name: str
    wbc_count: int
    mask_coverage: float
    assessable: bool
    reasons: tuple[str, ...] = ()
    classes: tuple[str, ...] = ()
    probabilities: tuple[float, ...] | None = None
    label: str | None = None
    p_all: float | None = None
    flagged: bool = False
    timings_ms: dict[str, float] = field(default_factory=dict)
    frame_index: int | None = None
    path: str | None = None
    ood_score: float | None = None  # how unlike the training data the field is; higher = stranger
    moving: bool = False
    cells: FieldCells | None = None
    subtype: str | None = None  # the field model's likeliest ALL subtype, suspicious fields only
    origin: tuple[float, float] | None = None  # slide position (px) of the top-left pixel (live)

    @property
    def classified(self) -> bool:
        return self.probabilities is not None

    @property
    def cells_judged(self) -> bool:
        return self.cells is not None and self.cells.judged

    @property
    def suspicious(self) -> bool:
        """At least one cell called a blast (cells judged), else P(ALL) has no say here."""
        return self.cells is not None and self.cells.suspicious

    @property
    def needs_look(self) -> bool:
        """A cell model ran but could not judge this field's cells: a person must look."""
        return self.assessable and self.cells is not None and not self.cells.judged

    def probability_map(self) -> dict[str, float] | None:
        if self.probabilities is None:
            return None
        return dict(zip(self.classes, self.probabilities, strict=False))


@dataclass(frozen=True, slots=True)
class Flag:
    """One suspicious dwell: raised once when P(ALL) stayed above threshold long enough."""

    source: str
    start_frame: int
    end_frame: int
    start_index: int | None
    end_index: int | None
    label: str
    p_all: float
    result: FieldResult
    p_blast: float | None = None  # with cells: the dwell's strongest P(blast) of one cell
    # class activation map over the frame, float32 0..1, when the model has one
    heat_map: np.ndarray | None = None
