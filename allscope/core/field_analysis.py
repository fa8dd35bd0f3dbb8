"""One field's analysis, the same live and in batch: everything between a frame and its result.

``FieldAnalyzer`` runs the steps before classification on one frame: colour normalisation,
the WBC mask, the stage motion (one phase correlation) and the quality gate, and builds the
unclassified ``FieldResult`` with the time each step took. ``classified_result`` adds the
model's verdict (abstaining outside its experience) and ``flag_heat_map`` the evidence map
of a flagged field. ``pipeline.Pipeline`` (live) and ``batch.BatchAnalyzer`` both use them,
so a field gets the same verdict whichever way it arrives.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from allscope.core.cam import CamHead, evidence_map, field_heat_map
from allscope.core.classifier import Classifier, Prediction
from allscope.core.frames import Frame
from allscope.core.mask.lab_kmeans import LiveMasker, lab_kmeans_mask
from allscope.core.motion import STILL, Motion, MotionDetector
from allscope.core.ood import OodDetector, abstain
from allscope.core.quality import QualityGate
from allscope.core.results import FieldResult, MaskResult

Gate = Callable[[Frame, MaskResult, Motion], tuple[bool, tuple[str, ...]]]
Normalizer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FieldAnalysis:
    """One analysed frame: the (normalised) frame, its mask and motion, and its result."""

    frame: Frame
    mask: MaskResult
    motion: Motion
    result: FieldResult  # assessable or not, with reasons; not yet classified


class FieldAnalyzer:
    """Analyses the frames of one stream (``stream=True``) or independent fields.

    In a stream the mask starts from the previous frame's cluster centres and motion is
    measured against the previous frame; independent fields are masked from scratch and
    count as still.
    """

    def __init__(
        self, gate: Gate | None = None, normalizer: Normalizer | None = None, stream: bool = True
    ) -> None:
        self.gate: Gate = gate if gate is not None else QualityGate()
        self.normalizer = normalizer
        self._masker: Callable[[np.ndarray], MaskResult] = (
            LiveMasker() if stream else lab_kmeans_mask
        )
        self._motion = MotionDetector() if stream else None

    def __call__(self, frame: Frame) -> FieldAnalysis:
        t0 = time.perf_counter()
        if self.normalizer is not None:
            frame = dataclasses.replace(frame, image=self.normalizer(frame.image))
        t1 = time.perf_counter()
        mask = self._masker(frame.image)
        t2 = time.perf_counter()
        motion = STILL if self._motion is None else self._motion(frame.image)
        assessable, reasons = self.gate(frame, mask, motion)
        timings = {
            "normalize": (t1 - t0) * 1e3,
            "mask": (t2 - t1) * 1e3,
            "gate": (time.perf_counter() - t2) * 1e3,
        }
        result = dataclasses.replace(
            base_result(frame, mask, assessable, reasons, timings), moving=motion.moving
        )
        return FieldAnalysis(frame, mask, motion, result)


def base_result(frame: Frame, mask: MaskResult, assessable: bool, reasons: tuple[str, ...],
                timings: dict[str, float]) -> FieldResult:
    return FieldResult(
        frame_id=frame.id, timestamp=frame.timestamp, source=frame.source, name=frame.name,
        wbc_count=mask.wbc_count, mask_coverage=mask.coverage, assessable=assessable,
        reasons=reasons, timings_ms=timings, frame_index=frame.frame_index, path=frame.path,
    )


def classified_result(result: FieldResult, classifier: Classifier, prediction: Prediction,
                      infer_ms: float, ood: OodDetector | None = None) -> FieldResult:
    """The result with the model's verdict; beyond the OOD threshold it becomes not assessable."""
    classes = classifier.classes
    probabilities = prediction.probabilities
    result = dataclasses.replace(
        result, classes=classes, probabilities=tuple(float(p) for p in probabilities),
        label=classes[int(np.argmax(probabilities))], p_all=classifier.p_all(probabilities),
        timings_ms={**result.timings_ms, "infer": infer_ms},
    )
    if ood is not None:
        result = abstain(result, ood.score(prediction.scores, prediction.outputs), ood)
    return result


def flag_heat_map(classifier: Classifier, head: CamHead | None, prediction: Prediction,
                  result: FieldResult, frame_shape: tuple[int, ...]) -> np.ndarray | None:
    """Where in the frame the evidence for the flagged class lies (only for flagged fields)."""
    feature_map = prediction.outputs.get("feature_map")
    if head is None or feature_map is None or result.label is None:
        return None
    cam = evidence_map(feature_map, head, classifier.classes.index(result.label),
                       versus=classifier.package.benign_index)
    return field_heat_map(cam, frame_shape)


class ModelExtensions:
    """The model's abstention detector and CAM head, loaded once from its package."""

    def __init__(self, classifier: Classifier | None) -> None:
        # loaded once, with the model (a damaged file fails the model's load, not a thread)
        self.ood = classifier.ood if classifier else None
        self.cam_head = classifier.cam_head if classifier else None
