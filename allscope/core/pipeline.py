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

import numpy as np

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import FieldCells, judge_cells
from allscope.core.cells.tally import DEFAULT_TARGET, Tally
from allscope.core.cells.tracking import CellTracker
from allscope.core.classifier import Classifier, Prediction, prepare_field
from allscope.core.field_analysis import (
    FieldAnalyzer,
    Gate,
    ModelExtensions,
    Normalizer,
    classified_result,
    decide,
    flag_heat_map,
    model_verdict,
)
from allscope.core.flags import FlagPolicy, FlagTracker
from allscope.core.frames import Frame, FrameSource
from allscope.core.handoff import LatestFrame, RateMeter, Samples, notify_all
from allscope.core.results import FieldResult, Flag, MaskResult

log = logging.getLogger(__name__)


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
    cells_judged: int = 0
    cells_per_s: float = 0.0  # cells judged per second since the start


@dataclass(frozen=True)
class LiveSnapshot:
    """What the display needs: the newest masked frame and the newest classification."""

    frame: Frame
    mask: MaskResult
    result: FieldResult
    last_classified: FieldResult | None
    moving: bool
    raw: np.ndarray | None = None  # the image before colour normalisation: cells are judged on it

    def cell_image(self) -> np.ndarray:
        return self.frame.image if self.raw is None else self.raw


class _Pending:
    """One field in flight: the field model's verdict and its cells may arrive in either order
    (inference runs on an OpenVINO thread while the cells are judged on the processing one)."""

    def __init__(self, frame: Frame, mask: MaskResult, result: FieldResult, moving: bool,
                 started: float, halves: int) -> None:
        self.frame, self.mask, self.result = frame, mask, result
        self.moving, self.started = moving, started
        self.prediction: Prediction | None = None
        self.cells: FieldCells | None = None
        self._missing = halves
        self._lock = threading.Lock()

    def arrived(self) -> bool:
        """One half is in; True for the caller that brought the last one."""
        with self._lock:
            self._missing -= 1
            return self._missing == 0


class Pipeline:
    """Runs a source through masking, classification and the flag policy on two threads.

    With a ``cell_classifier``, every white cell of each classified field is judged in one
    batch, the cells decide whether the field is suspicious, and ``tally()`` counts each
    distinct cell of the slide once (``allscope.core.cells.tracking``).
    """

    def __init__(
        self, source: FrameSource, classifier: Classifier | None = None,
        policy: FlagPolicy | None = None, *, gate: Gate | None = None,
        moving_classify_every: int = 3, normalizer: Normalizer | None = None,
        cell_classifier: CellClassifier | None = None, cell_target: int = DEFAULT_TARGET,
    ) -> None:
        self.source = source
        self.cell_classifier = cell_classifier
        self.cell_tracker = CellTracker(
            cell_classifier.classes if cell_classifier else (),
            str(cell_classifier.package.blast_class) if cell_classifier else "blast",
            target=cell_target,
        )
        self.classifier = classifier
        self._analyze = FieldAnalyzer(gate, normalizer)
        self.gate = self._analyze.gate
        self._extensions = ModelExtensions(classifier)
        self.moving_classify_every = max(1, moving_classify_every)
        self._tracker = FlagTracker(
            policy or FlagPolicy(threshold=classifier.package.threshold if classifier else 0.5)
        )
        self._box: LatestFrame[Frame] = LatestFrame()
        self._stop = threading.Event()
        self._warm = threading.Event()  # the cell model is ready: capture may begin
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._snapshot: LiveSnapshot | None = None
        self._last_classified: FieldResult | None = None
        self._result_listeners: list[Callable[[FieldResult], None]] = []
        self._flag_listeners: list[Callable[[Flag, Frame, MaskResult], None]] = []
        self._status_listeners: list[Callable[[str, str], None]] = []
        self._counts = {"captured": 0, "processed": 0, "classified": 0}
        self._capture_rate, self._process_rate, self._classify_rate = (
            RateMeter(), RateMeter(), RateMeter(),
        )
        self._infer_ms, self._latency_ms = Samples(), Samples()
        self._cells_judged, self._started_at = 0, time.monotonic()
        self._count_complete = False  # "count complete" was said for this slide
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
        self._started_at = time.monotonic()
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
    def classify_now(self, snapshot: LiveSnapshot) -> FieldResult:
        """The snapshot's field classified on the calling thread, as the pipeline would (a hand
        capture); the gate's verdict stands, so a field it rejects stays unclassified."""
        result = snapshot.result
        classified = snapshot.last_classified
        if classified is not None and classified.frame_id == snapshot.frame.id:
            return classified
        if not result.assessable:
            return result
        cells = None
        if self.cell_classifier is not None:  # its cells judged too, like any classified field
            cells = judge_cells(self.cell_classifier, snapshot.cell_image(), snapshot.mask)
        if self.classifier is None:
            return result if cells is None else decide(result, None, cells)
        started = time.perf_counter()
        prediction = self.classifier.predict_detailed(
            prepare_field(snapshot.frame.image, snapshot.mask, self.classifier.spec)
        )
        return classified_result(
            result,
            self.classifier,
            prediction,
            (time.perf_counter() - started) * 1e3,
            self._extensions.ood,
            cells,
        )

    def latest(self) -> LiveSnapshot | None:
        return self._snapshot

    def stats(self) -> PipelineStats:
        return PipelineStats(
            captured=self._counts["captured"], processed=self._counts["processed"],
            classified=self._counts["classified"], dropped=self._box.dropped,
            capture_fps=self._capture_rate.rate(), processed_fps=self._process_rate.rate(),
            classified_per_s=self._classify_rate.rate(), infer_ms=self._infer_ms.percentile(50),
            latency_p50_ms=self._latency_ms.percentile(50),
            latency_p95_ms=self._latency_ms.percentile(95),
            cells_judged=self._cells_judged,
            cells_per_s=self._cells_judged / max(time.monotonic() - self._started_at, 1e-9),
        )

    def tally(self) -> Tally:
        """The slide tally so far: each distinct white cell once (empty without a cell model)."""
        return self.cell_tracker.tally()

    def _announce_count(self) -> None:
        """Say "count complete" once when the target count of white cells is reached (again
        after the tracker was reset for a new slide)."""
        counted = self.cell_tracker.counted()
        if counted < self.cell_tracker.target:
            self._count_complete = False
        elif not self._count_complete:
            self._count_complete = True
            self._status("info", f"count complete: {counted} white cells examined")

    # threads -----------------------------------------------------------------------------
    def _status(self, level: str, message: str) -> None:
        notify_all(self._status_listeners, level, message)

    def _capture_loop(self) -> None:
        try:
            while not self._warm.wait(0.1):  # no frame is read (and dropped) before then
                if self._stop.is_set():
                    return
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
        try:
            if self.cell_classifier is not None:  # before the first frame, not during the stream
                self.cell_classifier.warm_up(self._stop)
        finally:
            self._warm.set()
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
        analysis = self._analyze(frame)
        frame, mask, result = analysis.frame, analysis.mask, analysis.result
        moving, assessable, timings = result.moving, result.assessable, result.timings_ms
        self._moving_frames = self._moving_frames + 1 if moving else 0
        pending = None
        if assessable and self._moving_frames % self.moving_classify_every == 0:
            pending = self._classify(frame, mask, result, moving, timings, analysis.raw)
        self._counts["processed"] += 1
        self._process_rate.tick()
        self._snapshot = LiveSnapshot(
            frame, mask, result, self._last_classified, moving, analysis.raw
        )
        if pending is None:
            with self._lock:
                self._tracker.update(result, moving)
            self._latency_ms.add((time.monotonic() - frame.timestamp) * 1e3)
            notify_all(self._result_listeners, result)

    def _classify(self, frame: Frame, mask: MaskResult, result: FieldResult, moving: bool,
                  timings: dict[str, float], raw: np.ndarray) -> _Pending | None:
        """Start the field model (asynchronous) and judge the cells (here, meanwhile; on the
        ``raw`` pixels, before colour normalisation); None when neither model takes this frame
        (no model, or the field model is busy)."""
        halves = (self.classifier is not None) + (self.cell_classifier is not None)
        if not halves:
            return None
        pending = _Pending(frame, mask, result, moving, time.perf_counter(), halves)
        if self.classifier is not None:
            t3 = time.perf_counter()
            field = prepare_field(frame.image, mask, self.classifier.spec)
            pending.result = dataclasses.replace(
                result, timings_ms={**timings, "preprocess": (time.perf_counter() - t3) * 1e3}
            )
            if not self.classifier.try_submit(field, pending, self._on_inferred):
                return None
        if self.cell_classifier is not None:
            pending.cells = judge_cells(self.cell_classifier, raw, mask)
            if pending.arrived():
                self._finish(pending)
        return pending

    def _on_inferred(self, prediction: Prediction, pending: _Pending) -> None:
        pending.prediction = prediction
        assert self.classifier is not None  # only its requests call back here
        infer_ms = (time.perf_counter() - pending.started) * 1e3
        pending.result = model_verdict(
            pending.result, self.classifier, prediction, infer_ms, self._extensions.ood
        )
        if pending.arrived():
            self._finish(pending)

    def _finish(self, pending: _Pending) -> None:
        """Both halves are in: decide, count the cells once, apply the flag policy, tell."""
        if self._stop.is_set() and not self._threads[1].is_alive():
            return
        frame, mask, moving = pending.frame, pending.mask, pending.moving
        benign = self.classifier.package.benign_class if self.classifier else None
        result = decide(pending.result, self._extensions.ood, pending.cells, benign)
        cells = pending.cells
        if cells is not None and cells.judged and result.origin is not None:
            ids = tuple(self.cell_tracker.update(result.origin, cells))
            result = dataclasses.replace(result, cells=dataclasses.replace(cells, track_ids=ids))
            self._cells_judged += len(cells.calls)
            self._announce_count()
        with self._lock:
            flag = self._tracker.update(result, moving)
            if flag is not None:
                result = dataclasses.replace(result, flagged=True)
            self._last_classified = result
            self._counts["classified"] += 1
        self._classify_rate.tick()
        if pending.prediction is not None:
            self._infer_ms.add(result.timings_ms.get("infer", 0.0))
        self._latency_ms.add((time.monotonic() - frame.timestamp) * 1e3)
        notify_all(self._result_listeners, result)
        if flag is not None:
            heat = None
            if pending.prediction is not None and self.classifier is not None:
                heat = flag_heat_map(
                    self.classifier, self._extensions.cam_head, pending.prediction, result,
                    frame.image.shape,
                )
            flag = dataclasses.replace(flag, result=result, heat_map=heat)
            notify_all(self._flag_listeners, flag, frame, mask)
