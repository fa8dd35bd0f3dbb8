"""The live run's trust pieces that change while it runs: colour normaliser, outside count.

Qt-free. The pipeline calls the normaliser on its processing thread while the GUI may swap
it (after a calibration, or when the user turns normalisation off); ``SwitchableNormalizer``
makes that swap a single reference assignment, so no frame sees half a change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from allscope.core.colour.calibration import ColourNormalizer, WhiteReference, load_white_reference
from allscope.core.frames import FrameSource
from allscope.core.ood import OUTSIDE
from allscope.core.results import FieldResult


def source_key(source: FrameSource) -> str:
    """The name a white reference is saved under: one per camera, else per kind of source.

    A camera is known by its index and backend (its description also holds the resolution,
    which must not split its calibration); other sources by their description's first part.
    """
    inner: Any = getattr(source, "inner", source)
    index = getattr(inner, "index", None)
    if isinstance(index, int):
        granted = inner.granted() if callable(getattr(inner, "granted", None)) else {}
        backend = granted.get("backend") or getattr(inner, "backend", "")
        return f"camera {index} ({backend})" if backend not in ("", None) else f"camera {index}"
    return source.describe().split(" (")[0].strip() or "source"


class SwitchableNormalizer:
    """Callable bgr → bgr: the current ``ColourNormalizer``, or the frame unchanged when off."""

    def __init__(self, inner: ColourNormalizer | None = None) -> None:
        self.inner = inner

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        inner = self.inner  # read once: the GUI thread may replace it meanwhile
        return bgr if inner is None else inner(bgr)

    @property
    def enabled(self) -> bool:
        return self.inner is not None

    @property
    def calibrated(self) -> bool:
        inner = self.inner
        return inner is not None and inner.white is not None

    @property
    def drift(self) -> float | None:
        """ΔE*ab of the background from the calibration; None when off or not calibrated."""
        inner = self.inner
        return None if inner is None else inner.drift


def normalizer_for(config_dir: str | Path | None, key: str,
                   white: WhiteReference | None = None) -> ColourNormalizer:
    """A normaliser with ``white``, else the saved reference of ``key`` (none if never calibrated).

    Raises ``CalibrationError`` when the saved reference is unreadable.
    """
    if white is None and config_dir is not None:
        white = load_white_reference(config_dir, key)
    return ColourNormalizer(white=white)


class OutsideCounter:
    """Counts fields the model abstained on ("outside the model's experience").

    The pipeline classifies many frames of one field while the stage rests, so a field is a
    run of consecutive outside verdicts on a still stage; a verdict inside the model's
    experience, or stage movement, ends the run (verdicts while moving are not counted: the
    view has not settled on a field). Called on the pipeline's threads; the GUI reads ``count``.
    """

    def __init__(self) -> None:
        self.count = 0
        self._in_run = False

    def update(self, result: FieldResult) -> None:
        if result.moving:
            self._in_run = False
            return
        if not result.classified:
            return
        outside = OUTSIDE in result.reasons
        if outside and not self._in_run:
            self.count += 1
        self._in_run = outside
