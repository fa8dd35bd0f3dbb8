"""The live pipeline: source thread → latest-frame box → masking → async inference → flags.

No queue here is unbounded: the box holds one frame, the classifier a fixed number of
requests, and a frame that finds no free request is shown and masked but not classified.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from allscope.core.cam import CamHead, evidence_map, field_heat_map, load_cam_head
from allscope.core.classifier import Classifier, Prediction, prepare_field
from allscope.core.flags import FlagPolicy, FlagTracker
from allscope.core.frames import Frame, FrameSource
from allscope.core.handoff import LatestFrame, RateMeter, Samples, notify_all
from allscope.core.mask.lab_kmeans import LiveMasker
from allscope.core.motion import MotionDetector
from allscope.core.ood import OodDetector, abstain, load_ood
from allscope.core.quality import QualityGate
from allscope.core.results import FieldResult, Flag, MaskResult

log = logging.getLogger(__name__)

Gate = Callable[[Frame, MaskResult, bool], tuple[bool, tuple[str, ...]]]


@dataclass(frozen=True)
class PipelineStats:
    captured: int
    processed: int
    classified: int
    dropped: int
    capture_fps: float
    processed_fps: float
    classified_per_s: float
    infer_ms: float
    latency_p50_ms: float
    latency_p95_ms: float


@dataclass(frozen=True)
class LiveSnapshot:
    """What the display needs: the newest masked frame and the newest classification."""

    frame: Frame
    mask: MaskResult
    result: FieldResult
    last_classified: FieldResult | None
    moving: bool


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
        result,
        classes=classes,
        probabilities=tuple(float(p) for p in probabilities),
        label=classes[int(np.argmax(probabilities))],
        p_all=classifier.p_all(probabilities),
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


class TrustModel:
    """The model's abstention detector and CAM head, loaded once from its package."""

    def __init__(self, classifier: Classifier | None) -> None:
        self.ood = load_ood(classifier.package) if classifier else None
        self.cam_head = load_cam_head(classifier.package) if classifier else None


class Pipeline:
    """Runs a source through masking, classification and the flag policy on two threads."""

    def __init__(
        self,
        source: FrameSource,
        classifier: Classifier | None = None,
        policy: FlagPolicy | None = None,
        *,
        gate: Gate | None = None,
        moving_classify_every: int = 3,
        normalizer: Callable[[np.ndarray], np.ndarray] | None = None,
    ) -> None:
        self.source = source
        self.normalizer = normalizer
        self.classifier = classifier
        self.gate = gate if gate is not None else QualityGate()
        self._trust = TrustModel(classifier)
        self.moving_classify_every = max(1, moving_classify_every)
        self._tracker = FlagTracker(policy or FlagPolicy(
            threshold=classifier.package.threshold if classifier else 0.5))
        self._masker = LiveMasker()
        self._motion = MotionDetector()
        self._box: LatestFrame[Frame] = LatestFrame()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._snapshot: LiveSnapshot | None = None
        self._last_classified: FieldResult | None = None
        self._result_listeners: list[Callable[[FieldResult], None]] = []
        self._flag_listeners: list[Callable[[Flag, Frame, MaskResult], None]] = []
        self._status_listeners: list[Callable[[str, str], None]] = []
        self._counts = {"captured": 0, "processed": 0, "classified": 0}
        self._capture_rate, self._process_rate, self._classify_rate = (
            RateMeter(),
            RateMeter(),
            RateMeter(),
        )
        self._infer_ms, self._latency_ms = Samples(), Samples()
        self._moving_frames = 0

    # listeners ---------------------------------------------------------------------------
    def add_result_listener(self, callback: Callable[[FieldResult], None]) -> None:
        self._result_listeners.append(callback)

    def add_flag_listener(self, callback: Callable[[Flag, Frame, MaskResult], None]) -> None:
        self._flag_listeners.append(callback)

    def add_status_listener(self, callback: Callable[[str, str], None]) -> None:
        self._status_listeners.append(callback)

    def set_policy(self, policy: FlagPolicy) -> None:
        with self._lock:
            self._tracker.policy = policy

    @property
    def policy(self) -> FlagPolicy:
        return self._tracker.policy

    @property
    def flags(self) -> list[Flag]:
        with self._lock:
            return list(self._tracker.flags)

    # lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            raise RuntimeError("pipeline already started")
        self._threads = [
            threading.Thread(target=self._capture_loop, name="allscope-capture", daemon=True),
            threading.Thread(target=self._process_loop, name="allscope-process", daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Stop both threads and wait for in-flight inference; nothing runs afterwards."""
        self._stop.set()
        self.source.stop()
        self._box.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if self.classifier is not None:
            self.classifier.wait()
        self.source.close()
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            log.warning("threads still running after stop(): %s", alive)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def threads(self) -> list[threading.Thread]:
        return list(self._threads)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for a finite source to be exhausted and processed; True when it was."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in self._threads:
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if self.classifier is not None and not self.running:
            self.classifier.wait()
        return not self.running

    # views -------------------------------------------------------------------------------
    def latest(self) -> LiveSnapshot | None:
        return self._snapshot

    def stats(self) -> PipelineStats:
        return PipelineStats(
            captured=self._counts["captured"],
            processed=self._counts["processed"],
            classified=self._counts["classified"],
            dropped=self._box.dropped,
            capture_fps=self._capture_rate.rate(),
            processed_fps=self._process_rate.rate(),
            classified_per_s=self._classify_rate.rate(),
            infer_ms=self._infer_ms.percentile(50),
            latency_p50_ms=self._latency_ms.percentile(50),
            latency_p95_ms=self._latency_ms.percentile(95),
        )

    # threads -----------------------------------------------------------------------------
    def _status(self, level: str, message: str) -> None:
        notify_all(self._status_listeners, level, message)

    def _capture_loop(self) -> None:
        try:
            for frame in self.source.frames():
                if self._stop.is_set():
                    break
                self._counts["captured"] += 1
                self._capture_rate.tick()
                self._box.put(frame)
        except Exception as exc:  # reported to the user, not raised into a thread
            log.exception("source failed")
            self._status("error", f"{self.source.describe()}: {exc}")
        finally:
            self._box.close()

    def _process_loop(self) -> None:
        while not self._stop.is_set():
            frame = self._box.take(timeout=0.2)
            if frame is None:
                if self._box.closed:
                    return
                continue
            try:
                self._process(frame)
            except Exception as exc:  # one bad frame must not end the stream
                log.exception("processing frame %s failed", frame.id)
                self._status("error", f"frame {frame.id} could not be processed: {exc}")

    def _process(self, frame: Frame) -> None:
        t0 = time.perf_counter()
        if self.normalizer is not None:
            frame = dataclasses.replace(frame, image=self.normalizer(frame.image))
        t1 = time.perf_counter()
        mask = self._masker(frame.image)
        t2 = time.perf_counter()
        moving = self._motion(frame.image)
        assessable, reasons = self.gate(frame, mask, moving)
        timings = {
            "normalize": (t1 - t0) * 1e3,
            "mask": (t2 - t1) * 1e3,
            "gate": (time.perf_counter() - t2) * 1e3,
        }
        result = dataclasses.replace(
            base_result(frame, mask, assessable, reasons, timings), moving=moving
        )
        self._moving_frames = self._moving_frames + 1 if moving else 0
        submitted = False
        if (
            self.classifier is not None
            and assessable
            and self._moving_frames % self.moving_classify_every == 0
        ):
            t3 = time.perf_counter()
            field = prepare_field(frame.image, mask, self.classifier.spec)
            result = dataclasses.replace(
                result, timings_ms={**timings, "preprocess": (time.perf_counter() - t3) * 1e3}
            )
            data = (frame, mask, result, moving, time.perf_counter())
            submitted = self.classifier.try_submit(field, data, self._on_inferred)
        self._counts["processed"] += 1
        self._process_rate.tick()
        self._snapshot = LiveSnapshot(frame, mask, result, self._last_classified, moving)
        if not submitted:
            with self._lock:
                self._tracker.update(result, moving)
            self._latency_ms.add((time.monotonic() - frame.timestamp) * 1e3)
            notify_all(self._result_listeners, result)

    def _on_inferred(self, prediction: Prediction, data: tuple[Any, ...]) -> None:
        frame, mask, result, moving, started = data
        if self._stop.is_set() and not self._threads[1].is_alive():
            return
        infer_ms = (time.perf_counter() - started) * 1e3
        assert self.classifier is not None  # only its requests call back here
        result = classified_result(result, self.classifier, prediction, infer_ms, self._trust.ood)
        with self._lock:
            flag = self._tracker.update(result, moving)
            if flag is not None:
                result = dataclasses.replace(result, flagged=True)
            self._last_classified = result
            self._counts["classified"] += 1
        self._classify_rate.tick()
        self._infer_ms.add(infer_ms)
        self._latency_ms.add((time.monotonic() - frame.timestamp) * 1e3)
        notify_all(self._result_listeners, result)
        if flag is not None:
            heat = flag_heat_map(
                self.classifier, self._trust.cam_head, prediction, result, frame.image.shape
            )
            flag = dataclasses.replace(flag, result=result, heat_map=heat)
            notify_all(self._flag_listeners, flag, frame, mask)
