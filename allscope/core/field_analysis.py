"""One field's analysis, the same live and in batch: everything between a frame and its result.

``FieldAnalyzer`` runs the steps before classification on one frame: colour normalisation,
the WBC mask, the stage motion (one phase correlation, which also places the frame on the
slide: ``FieldResult.origin``) and the quality gate, and builds the unclassified
``FieldResult`` with the time each step took. Then two halves, in either order of arrival:

- ``model_verdict``: the field model's probabilities and its out-of-distribution score;
- ``judge_cells`` (``allscope.core.cells.field``): every white cell judged in one batch;

and ``decide`` concludes from both. With cells judged, the cells decide: the field is
suspicious when one cell is called a blast, and the field model only names the most likely
ALL subtype of a suspicious field; its abstention ("outside the model's experience") then
withholds the subtype but never the cell judgement. Without a cell model the field model
decides and abstains as before. ``classified_result`` does verdict and decision in one step,
``flag_heat_map`` gives the evidence map of a flagged field. ``pipeline.Pipeline`` (live) and
``batch.BatchAnalyzer`` both use them, so a field gets the same verdict whichever way it
arrives.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from allscope.core.cam import CamHead, evidence_map, field_heat_map
from allscope.core.cells.field import FieldCells
from allscope.core.classifier import Classifier, Prediction
from allscope.core.frames import Frame
from allscope.core.mask.lab_kmeans import LiveMasker, lab_kmeans_mask
from allscope.core.motion import STILL, Motion, MotionDetector
from allscope.core.ood import OUTSIDE, OodDetector, abstain
from allscope.core.quality import QualityGate
from allscope.core.results import FieldResult, MaskResult

Gate = Callable[[Frame, MaskResult, Motion], tuple[bool, tuple[str, ...]]]
Normalizer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class FieldAnalysis:
    """One analysed frame: the (normalised) frame, its mask and motion, and its result.

    ``raw`` is the frame's image as recorded, before colour normalisation (the same array when
    there is none). The mask and the field model work on the normalised image; cells are
    judged on the recorded pixels, as the cell model was trained and measured: on BCCD fields
    (another laboratory) cells cut from normalised pixels were called blast in 114 of 364
    fields, from recorded pixels in 13.
    """

    frame: Frame
    mask: MaskResult
    motion: Motion
    result: FieldResult  # assessable or not, with reasons; not yet classified
    raw: np.ndarray


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
        raw = frame.image
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
            base_result(frame, mask, assessable, reasons, timings),
            moving=motion.moving,
            origin=None if self._motion is None else self._motion.origin,
        )
        return FieldAnalysis(frame, mask, motion, result, raw)


def base_result(frame: Frame, mask: MaskResult, assessable: bool, reasons: tuple[str, ...],
                timings: dict[str, float]) -> FieldResult:
    return FieldResult(
        frame_id=frame.id, timestamp=frame.timestamp, source=frame.source, name=frame.name,
        wbc_count=mask.wbc_count, mask_coverage=mask.coverage, assessable=assessable,
        reasons=reasons, timings_ms=timings, frame_index=frame.frame_index, path=frame.path,
    )


def model_verdict(result: FieldResult, classifier: Classifier, prediction: Prediction,
                  infer_ms: float, ood: OodDetector | None = None) -> FieldResult:
    """The result with the field model's probabilities and OOD score (no decision yet)."""
    classes = classifier.classes
    probabilities = prediction.probabilities
    return dataclasses.replace(
        result, classes=classes, probabilities=tuple(float(p) for p in probabilities),
        label=classes[int(np.argmax(probabilities))], p_all=classifier.p_all(probabilities),
        timings_ms={**result.timings_ms, "infer": infer_ms},
        ood_score=None if ood is None else ood.score(prediction.scores, prediction.outputs),
    )


def decide(result: FieldResult, ood: OodDetector | None, cells: FieldCells | None,
           benign: str | None = None) -> FieldResult:
    """The field's conclusion from the field model's verdict (if any) and its cells (if any).

    ``benign`` is the field model's benign class, left out when the subtype is read.
    """
    outside = ood is not None and result.ood_score is not None and ood.outside(result.ood_score)
    if cells is None:
        if ood is not None and result.ood_score is not None:
            return abstain(result, result.ood_score, ood)
        return result
    timings = {**result.timings_ms, **cells.timings_ms}
    result = dataclasses.replace(result, cells=cells, timings_ms=timings)
    if not cells.judged and result.assessable:
        return dataclasses.replace(result, reasons=(*result.reasons, cells.reason or ""))
    if cells.suspicious and result.classified and not outside:
        return dataclasses.replace(result, subtype=subtype(result, benign))
    if outside and cells.suspicious:
        return dataclasses.replace(result, reasons=(*result.reasons, f"subtype: {OUTSIDE}"))
    return result


def subtype(result: FieldResult, benign: str | None) -> str | None:
    """The most probable non-benign class of the field model."""
    probabilities = result.probability_map() or {}
    candidates = {k: v for k, v in probabilities.items() if k != benign}
    return max(candidates, key=lambda k: candidates[k]) if candidates else None


def classified_result(result: FieldResult, classifier: Classifier, prediction: Prediction,
                      infer_ms: float, ood: OodDetector | None = None,
                      cells: FieldCells | None = None) -> FieldResult:
    """The field model's verdict and the decision in one step (see ``decide``)."""
    verdict = model_verdict(result, classifier, prediction, infer_ms, ood)
    return decide(verdict, ood, cells, classifier.package.benign_class)


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
