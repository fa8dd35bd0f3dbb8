"""The field quality gate: is this frame fit to be classified at all?

A screening tool that flags blurry, smeared, badly exposed or empty fields produces noise,
so every frame is judged before inference on four cheap measures, all taken on one small
grey copy of the frame (scaled so white cells are about ``cell_px`` across, short side at
least ``analysis_side`` px):

- focus: the share of gradient energy around the white cells that a small re-blur removes
  (sharp edges lose much, blurred ones little). It is contrast-invariant, and the re-blur
  scales with the cells' size, so it does not depend on magnification or camera resolution;
- motion: the shift per frame and the phase-correlation peak, taken from the stream's
  ``motion.Motion`` (measured once per frame by ``motion.MotionDetector``);
- exposure: fractions of clipped highlights and shadows, and the background level;
- cells present: the mask found at least ``min_cells`` white cells.

``QualityGate.__call__`` matches the Gate signature (frame, mask, motion) of
``field_analysis``. Thresholds live in ``QualitySettings``; their defaults come from
``allscope trust calibrate-gate``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from allscope.core.frames import Frame
from allscope.core.motion import STILL, Motion
from allscope.core.results import MaskResult

OUT_OF_FOCUS = "out of focus"
STAGE_MOVING = "stage moving"
OVER_EXPOSED = "over-exposed"
UNDER_EXPOSED = "under-exposed"
NO_CELLS = "no cells in view"


@dataclass(frozen=True)
class QualitySettings:
    """Gate thresholds (user-overridable; defaults from ``allscope trust calibrate-gate``)."""

    min_sharpness: float = 0.25  # focus score (0-1) below which a field is out of focus
    reblur_fraction: float = 0.05  # re-blur sigma as a fraction of the median WBC diameter
    max_shift: float = 0.02  # shift per frame, as a fraction of the field width
    min_match: float = 0.05  # phase-correlation peak below which the view changed entirely
    max_highlights: float = 0.85  # fraction of pixels clipped white (any channel >= 253)
    max_shadows: float = 0.05  # fraction of pixels clipped black (every channel <= 2)
    min_background: float = 100.0  # 90th percentile of grey (0-255): the lit background
    min_cells: int = 1
    reject_moving: bool = False  # also reject every frame the motion detector calls moving
    analysis_side: int = 160  # least short side (px) of the grey image the checks run on
    cell_px: float = 40.0  # white-cell diameter (px) the analysis image is scaled to, if larger

    def __post_init__(self) -> None:
        for name in ("min_sharpness", "max_shift", "min_match", "max_highlights", "max_shadows"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be within 0..1, got {getattr(self, name)}")
        if not 0.0 < self.reblur_fraction <= 1.0:
            raise ValueError(f"reblur_fraction must be within (0, 1], got {self.reblur_fraction}")
        if not 0.0 <= self.min_background <= 255.0:
            raise ValueError(f"min_background must be within 0..255, got {self.min_background}")
        if self.min_cells < 0 or self.analysis_side < 32 or self.cell_px < 8:
            raise ValueError("min_cells must be >= 0, analysis_side >= 32 and cell_px >= 8")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QualitySettings:
        """Settings from a dict; unknown keys (from older or newer versions) are ignored."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class QualityMeasures:
    """What the gate measured on one frame (None where a measure does not apply)."""

    sharpness: float | None
    shift: float | None  # fraction of the field width since the previous frame
    match: float | None  # phase-correlation peak (1 = identical view)
    highlights: float
    shadows: float
    background: float
    cells: int


def analysis_image(bgr: np.ndarray, side: int) -> np.ndarray:
    """A small BGR copy whose short side is about ``side`` (never enlarged)."""
    h, w = bgr.shape[:2]
    scale = min(1.0, side / min(h, w))
    if scale >= 1.0:
        return bgr
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(bgr, size, interpolation=cv2.INTER_LINEAR)


def exposure(small_bgr: np.ndarray, grey: np.ndarray) -> tuple[float, float, float]:
    """(clipped-highlight fraction, clipped-shadow fraction, background level 0-255)."""
    unclipped = cv2.countNonZero(cv2.inRange(small_bgr, (0, 0, 0), (252, 252, 252)))
    highlights = 1.0 - unclipped / grey.size
    shadows = cv2.countNonZero(cv2.inRange(small_bgr, (0, 0, 0), (2, 2, 2))) / grey.size
    counts = cv2.calcHist([grey], [0], None, [256], [0, 256]).ravel()
    background = float(np.searchsorted(np.cumsum(counts), 0.9 * grey.size))
    return float(highlights), float(shadows), background


def sharpness(grey: np.ndarray, region: np.ndarray | None, sigma: float) -> float:
    """Share (0-1) of the gradient energy inside ``region`` that a re-blur of ``sigma`` removes.

    For an edge blurred by b px the share is 1 - b / sqrt(b² + sigma²): high when sharp,
    near 0 when the optics already blurred it far more than ``sigma``.
    """
    if region is not None:  # work on the region's bounding box only
        x, y, w, h = cv2.boundingRect(region)
        grey, region = grey[y : y + h, x : x + w], region[y : y + h, x : x + w]
    g = grey.astype(np.float32)
    before = _gradient_energy(g, region)
    if before <= 1e-6:
        return 0.0
    after = _gradient_energy(cv2.GaussianBlur(g, (0, 0), sigma), region)
    return float(np.clip(1.0 - after / before, 0.0, 1.0))


def _gradient_energy(g: np.ndarray, region: np.ndarray | None) -> float:
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    return float(cv2.mean(cv2.add(cv2.multiply(gx, gx), cv2.multiply(gy, gy)), mask=region)[0])


def cell_region(mask: MaskResult, shape: tuple[int, int], grow: int) -> np.ndarray | None:
    """The white-cell mask at the analysis size, dilated by ``grow`` px to take in the edges."""
    if mask.wbc_count == 0:
        return None
    small = cv2.resize(mask.mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * grow + 1, 2 * grow + 1))
    region = cv2.dilate(small, kernel)
    return region if np.count_nonzero(region) else None


def median_wbc_diameter(mask: MaskResult) -> float:
    areas = [c.area for c in mask.candidates]
    return float(2.0 * np.sqrt(np.median(areas) / np.pi)) if areas else 0.0


class QualityGate:
    """Judges each frame on its own measures and on the stream's ``Motion`` for that frame.

    ``last`` holds the latest ``QualityMeasures`` for display and calibration.
    """

    def __init__(self, settings: QualitySettings | None = None) -> None:
        self.settings = settings or QualitySettings()
        self.last: QualityMeasures | None = None

    def reset(self) -> None:
        self.last = None

    def measure(
        self, bgr: np.ndarray, mask: MaskResult, motion: Motion = STILL
    ) -> QualityMeasures:
        """Every measure of one frame; shift and match come from ``motion``."""
        if bgr.ndim != 3 or bgr.shape[2] != 3 or bgr.dtype != np.uint8:
            raise ValueError(f"expected a uint8 BGR image (H, W, 3), got {bgr.dtype} {bgr.shape}")
        diameter = median_wbc_diameter(mask)
        small = analysis_image(bgr, self._side(bgr.shape, diameter))
        grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        highlights, shadows, background = exposure(small, grey)
        focus = None
        if mask.wbc_count:
            scale = grey.shape[0] / bgr.shape[0]
            sigma = float(np.clip(self.settings.reblur_fraction * diameter * scale, 0.7, 8.0))
            region = cell_region(mask, grey.shape, max(1, round(2 * sigma)))
            focus = sharpness(grey, region, sigma)
        return QualityMeasures(
            focus, motion.shift, motion.match, highlights, shadows, background, mask.wbc_count
        )

    def _side(self, shape: tuple[int, ...], diameter: float) -> int:
        """Short side of the analysis image: white cells about ``cell_px`` across, but never
        smaller than ``analysis_side`` (the cost bound) nor larger than the frame."""
        short = min(shape[:2])
        if diameter <= 0:
            return self.settings.analysis_side
        return max(
            self.settings.analysis_side, round(short * min(1.0, self.settings.cell_px / diameter))
        )

    def judge(self, m: QualityMeasures, moving: bool = False) -> tuple[bool, tuple[str, ...]]:
        """(assessable, reasons) for measures already taken; every failing check is named."""
        s = self.settings
        reasons = []
        if m.cells < s.min_cells:
            reasons.append(NO_CELLS)
        if m.sharpness is not None and m.sharpness < s.min_sharpness:
            reasons.append(OUT_OF_FOCUS)
        fast = m.shift is not None and (m.shift > s.max_shift or (m.match or 0.0) < s.min_match)
        if fast or (moving and s.reject_moving):
            reasons.append(STAGE_MOVING)
        if m.highlights > s.max_highlights:
            reasons.append(OVER_EXPOSED)
        if m.shadows > s.max_shadows or m.background < s.min_background:
            reasons.append(UNDER_EXPOSED)
        return not reasons, tuple(reasons)

    def __call__(
        self, frame: Frame, mask: MaskResult, motion: Motion
    ) -> tuple[bool, tuple[str, ...]]:
        self.last = self.measure(frame.image, mask, motion)
        return self.judge(self.last, motion.moving)
