"""Batch analysis of image files, folders and videos: the engine behind ``allscope analyze``."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from allscope.core.batch_decisions import Decisions
from allscope.core.cells.batch_tally import BatchTally
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import FieldCells, FieldCrops, cut_cells, not_judged
from allscope.core.cells.pool import CellPool
from allscope.core.cells.tally import DEFAULT_TARGET, Tally
from allscope.core.classifier import Classifier, Prediction, prepare_field
from allscope.core.colour.calibration import ColourNormalizer
from allscope.core.colour.target import ColourTarget, load_colour_target
from allscope.core.field_analysis import (
    FieldAnalyzer,
    ModelExtensions,
    flag_heat_map,
)
from allscope.core.flags import FlagPolicy, FlagTracker
from allscope.core.frames import Frame, SourceError
from allscope.core.results import FieldResult, Flag, MaskResult
from allscope.core.sources import ImageSource, VideoSource, find_images, is_video_path
from allscope.core.sources.images import read_image
from allscope.core.text import printable

MaskSink = Callable[[Frame, MaskResult], None]
CellSink = Callable[[Frame, FieldCells], None]
Cells = FieldCells | None
# a field that may be flagged: its frame, mask and (once inferred) the model's prediction
KeptField = tuple[Frame, MaskResult, Prediction | None]
Progress = Callable[[int, int | None], None]
MAX_WORKERS = 4  # threads that read and analyse image fields ahead of the inference
AHEAD_PER_WORKER = 2  # fields each of them may hold ready, waiting for their turn


@dataclass
class FieldError:
    source: str
    frame: int | None
    error: str


@dataclass(frozen=True)
class _Front:
    """A field's work before inference: its analysis, its cells cut (or why they could not
    be), and the field model's input (None when the field is not classified)."""

    frame: Frame
    mask: MaskResult
    result: FieldResult
    cut: FieldCrops | FieldCells | None
    tensor: np.ndarray | None

    def numbered(self, frame_id: int) -> _Front:
        """The same field as the ``frame_id``-th frame of its source."""
        return dataclasses.replace(self, frame=dataclasses.replace(self.frame, id=frame_id),
                                   result=dataclasses.replace(self.result, frame_id=frame_id))


Fronts = Generator[_Front | FieldError, None, None]


def default_workers() -> int:
    """One front-half thread per core (at most ``MAX_WORKERS``)."""
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


@dataclass
class BatchReport:
    """Every field's result in input order, the flags raised, and the inputs that failed."""

    results: list[FieldResult] = field(default_factory=list)
    errors: list[FieldError] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    flagged_frames: dict[int, tuple[Frame, MaskResult]] = field(default_factory=dict)
    threshold: float | None = None
    tally: Tally | None = None  # with a cell model: each cell once (images: per field)
    counted: BatchTally | None = None  # the cells the tally counted, for a session to keep

    @property
    def analysed(self) -> int:
        return len(self.results)


def _printable(result: FieldResult) -> FieldResult:
    """File names that are not valid UTF-8 made valid (``\\xNN``) for every output."""
    return dataclasses.replace(result, source=printable(result.source), name=printable(result.name),
                               path=None if result.path is None else printable(result.path))


def expand_inputs(inputs: Sequence[str | Path]) -> list[tuple[str, Path]]:
    """(kind, path) per input in order: "video" for video files, "images" for files and folders."""
    expanded = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise SourceError(f"{printable(str(path))}: no such file or folder; check the path.")
        expanded.append(("video" if path.is_file() and is_video_path(path) else "images", path))
    return expanded


def expected_fields(inputs: Sequence[str | Path]) -> int | None:
    """How many fields a run will analyse (image files plus video frames); None when a video
    does not state its length."""
    total = 0
    for kind, path in expand_inputs(inputs):
        if kind == "images":
            total += len(find_images([path], recursive=True))
            continue
        try:
            video = VideoSource(path, paced=False)
            try:
                if video.frame_count <= 0:
                    return None
                total += video.frame_count
            finally:
                video.close()
        except SourceError:
            continue  # reported when the run reaches it
    return total


class BatchAnalyzer:
    """Masks every field, classifies it asynchronously (throughput mode), then applies flags.

    Images are independent fields: each is its own dwell, flagged when its evidence reaches
    the threshold. Video frames are a stream: flags follow the policy over still dwells.
    With a ``cell_classifier`` every cell of each assessable field is judged (the crops of
    consecutive fields pooled into asynchronous batches, ``cells.pool``; a field is decided
    when its prediction and its cells are both in) and decides the flag
    (``allscope.core.field_analysis``); the tally counts each
    cell of an image once, and each distinct cell of a video once (tracked on the slide;
    ``BatchTally``).

    Image files are independent fields: ``workers`` threads read, analyse and cut them ahead
    (OpenCV releases the GIL), and the run takes them in input order, so every output is
    the same as with ``workers=0`` (all on the calling thread). Meanwhile OpenCV runs each
    call on one thread (its thread pool only costs CPU time on fields this small when the
    workers already use every core). A video's frames form one stream and are analysed in
    order on the calling thread.
    """

    def __init__(self, classifier: Classifier | None, policy: FlagPolicy | None = None,
                 mask_sink: MaskSink | None = None, keep_flagged_frames: bool = False,
                 normalize: bool = False, cell_classifier: CellClassifier | None = None,
                 cell_sink: CellSink | None = None, cell_target: int = DEFAULT_TARGET,
                 workers: int | None = None) -> None:
        self.workers = default_workers() if workers is None else max(0, workers)
        self._colour_target: ColourTarget | None = None
        self._target_lock = threading.Lock()
        self.classifier = classifier
        self.cell_classifier, self.cell_sink = cell_classifier, cell_sink
        self.cell_target = cell_target
        self.normalize = normalize
        self.extensions = ModelExtensions(classifier)
        threshold = classifier.package.threshold if classifier else 0.5
        self.policy = policy or FlagPolicy(threshold=threshold)
        self.mask_sink = mask_sink
        self.keep_flagged_frames = keep_flagged_frames

    def run(self, inputs: Sequence[str | Path], progress: Progress | None = None) -> BatchReport:
        report = BatchReport()
        slots: list[FieldResult | None] = []
        moving: list[bool] = []
        frames: dict[int, KeptField] = {}
        lock = threading.Lock()
        classifier = self.classifier

        pool = CellPool(self.cell_classifier) if self.cell_classifier is not None else None

        def error_row(result: FieldResult, message: str) -> None:
            report.errors.append(FieldError(result.path or result.source, result.frame_index,
                                            message))

        decisions = Decisions(slots, frames, lock, self.policy, error_row, classifier,
                              self.extensions.ood, self.cell_sink)
        fronts = self._fronts(inputs, report)
        try:
            for front in fronts:
                if isinstance(front, FieldError):
                    report.errors.append(front)
                    continue
                frame, mask, result, cut = front.frame, front.mask, front.result, front.cut
                is_moving, assessable = result.moving, result.assessable
                with lock:
                    slots.append(result)
                    index = len(slots) - 1
                moving.append(is_moving)
                judging = classifier is not None or self.cell_classifier is not None
                if self.keep_flagged_frames and assessable and judging:
                    with lock:
                        frames[index] = (frame, mask, None)
                if self.mask_sink is not None:
                    self.mask_sink(frame, mask)
                infer = front.tensor is not None
                if infer or cut is not None:
                    decisions.expect(index, result, int(infer) + int(cut is not None))
                if infer:
                    assert classifier is not None and front.tensor is not None
                    classifier.submit(front.tensor, index, decisions.on_prediction)
                if cut is not None:
                    assert pool is not None
                    if isinstance(cut, FieldCells):  # the field's cells could not be cut
                        decisions.on_cells(index, frame, cut)
                    else:
                        pool.submit(cut, functools.partial(decisions.on_cells, index, frame))
                if progress is not None:
                    progress(len(slots), None)
        finally:
            fronts.close()  # no field is read or analysed ahead any more
            if pool is not None:  # no inference may still run when the run ends, however it ends
                pool.flush()
                pool.wait()
            if classifier is not None:
                classifier.wait()
        kept = [i for i, r in enumerate(slots) if r is not None]  # failed inference: an error row
        renumber = {old: new for new, old in enumerate(kept)}
        report.results = [r for r in slots if r is not None]
        if self.cell_classifier is not None:  # before the flags, so flagged fields carry ids
            counted = BatchTally(self.cell_classifier.classes,
                                 str(self.cell_classifier.package.blast_class), self.cell_target)
            report.results = [counted.add(r) for r in report.results]
            report.counted, report.tally = counted, counted.tally()
        report.threshold = self.policy.threshold
        self._flag(report, [moving[i] for i in kept],
                   {renumber[i]: f for i, f in frames.items() if i in renumber})
        return report

    def _cut(self, image: np.ndarray, mask: MaskResult) -> FieldCrops | FieldCells | None:
        """The field's cells and crops, cut from ``image`` (the recorded pixels: see
        ``FieldAnalysis``) where ``mask`` found them (None without a cell model; a
        ``FieldCells`` that needs a look when they cannot be cut)."""
        if self.cell_classifier is None:
            return None
        try:
            return cut_cells(self.cell_classifier, image, mask)
        except (ValueError, RuntimeError) as exc:
            return not_judged(self.cell_classifier, exc)

    def _front(self, frame: Frame, analyze: FieldAnalyzer) -> _Front | FieldError:
        """Everything a field needs before inference, or the field's error row: any error
        (memory, OpenCV...) stays in its field."""
        try:
            analysis = analyze(frame)
            frame, mask, result = analysis.frame, analysis.mask, _printable(analysis.result)
            if frame.meta.get("damage"):  # partly decoded: never classified, says why
                reasons = (*result.reasons, frame.meta["damage"])
                result = dataclasses.replace(result, assessable=False, reasons=reasons)
            cut = self._cut(analysis.raw, mask) if result.assessable else None
            tensor = None
            if self.classifier is not None and result.assessable:
                tensor = prepare_field(frame.image, mask, self.classifier.spec)
        except Exception as exc:
            return FieldError(printable(frame.path or frame.source), frame.frame_index,
                              f"cannot be analysed ({type(exc).__name__}: {exc})")
        return _Front(frame, mask, result, cut, tensor)

    def _fronts(self, inputs: Sequence[str | Path], report: BatchReport) -> Fronts:
        """Each field ready for inference (or its error row), in input order: images are
        independent fields (a fresh normaliser and gate each), a video's frames a stream.
        Unusable inputs become errors."""
        def on_error(path: str, message: str) -> None:
            report.errors.append(FieldError(printable(str(path)), None, printable(message)))

        for kind, path in expand_inputs(inputs):
            if kind == "images":
                try:
                    source = ImageSource([path], recursive=True, on_error=on_error)
                except SourceError as exc:
                    on_error(str(path), str(exc))
                    continue
                yield from self._image_fronts(source, on_error)
                continue
            for frame, analyze in self._video(path, report):
                yield self._front(frame, analyze)

    def _image_fronts(self, source: ImageSource, on_error: Callable[[str, str], None]) -> Fronts:
        """The fields of an image source in order, read and analysed ahead by ``workers``
        threads (none: here, one after the other). Frames are numbered as the source numbers
        them: files that cannot be read are reported and take no number."""
        numbers = itertools.count()
        if self.workers == 0:
            for frame in source.frames():
                yield self._front(frame, self._image_analyzer())
            return
        executor = ThreadPoolExecutor(self.workers, thread_name_prefix="allscope-fields")
        opencv_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)  # the workers are the parallelism: no thread pool inside each call
        waiting: deque[tuple[Path, Future[_Front | FieldError | str]]] = deque()
        files = iter(source.files)
        try:
            while True:
                while len(waiting) < self.workers * AHEAD_PER_WORKER:
                    path = next(files, None)
                    if path is None:
                        break
                    waiting.append((path, executor.submit(self._image_front, path,
                                                          source.describe())))
                if not waiting:
                    return
                path, future = waiting.popleft()
                front = future.result()
                if isinstance(front, str):  # the file could not be read
                    on_error(str(path), front)
                    continue
                number = next(numbers)  # a frame read, even one that fails its analysis
                yield front.numbered(number) if isinstance(front, _Front) else front
        finally:
            executor.shutdown(wait=True, cancel_futures=True)
            cv2.setNumThreads(opencv_threads)

    def _image_front(self, path: Path, description: str) -> _Front | FieldError | str:
        """One image file read and analysed (on a worker thread); a string says why the
        file could not be read, as ``ImageSource`` says it."""
        try:
            image, damage = read_image(path)
        except SourceError as exc:
            return str(exc)
        except Exception as exc:  # memory, OpenCV, OS: one bad file never stops a batch
            return f"{path}: cannot be analysed ({type(exc).__name__}: {exc})"
        frame = Frame(-1, time.monotonic(), image, description, name=path.stem, path=str(path),
                      meta={"damage": damage} if damage else {})
        return self._front(frame, self._image_analyzer())

    def _image_analyzer(self) -> FieldAnalyzer:
        """An independent field's analyser: a fresh normaliser and gate."""
        return FieldAnalyzer(normalizer=self._normalizer(), stream=False)

    def _video(self, path: Path, report: BatchReport) -> Iterator[tuple[Frame, FieldAnalyzer]]:
        """A video's frames; runs of frames it could not decode become error rows."""
        analyze = FieldAnalyzer(normalizer=self._normalizer())
        name = printable(str(path))
        try:
            video = VideoSource(path, paced=False)
            with video:
                for frame in video.frames():
                    yield frame, analyze
                for first, last in video.damaged_runs():
                    frames = f"frame {first}" if first == last else f"frames {first}-{last}"
                    report.errors.append(FieldError(name, first, (
                        f"{name}: {frames} ({last - first + 1} of {video.frame_count}) could "
                        "not be decoded; the file is damaged there; the other frames were analysed"
                    )))
        except SourceError as exc:
            report.errors.append(FieldError(name, None, printable(str(exc))))
        except Exception as exc:  # a video that fails midway is that video's error row
            report.errors.append(FieldError(
                name, None, f"{name}: reading stopped ({type(exc).__name__}: {exc})"))

    def _normalizer(self) -> ColourNormalizer | None:
        if not self.normalize:
            return None
        with self._target_lock:  # read once, not once per field
            if self._colour_target is None:
                self._colour_target = load_colour_target()
        return ColourNormalizer(self._colour_target)

    def _flag(self, report: BatchReport, moving: list[bool],
              frames: dict[int, KeptField]) -> None:
        """Run the flag policy over results in input order: one tracker per video, one per image."""
        trackers: dict[str, FlagTracker] = {}
        raised: list[
            tuple[FlagTracker, int, int]
        ] = []  # tracker, its flag's position, result index
        for index, result in enumerate(report.results):
            if result.frame_index is None:
                tracker = FlagTracker(dataclasses.replace(self.policy, consecutive=1))
            else:
                tracker = trackers.setdefault(
                    result.path or result.source, FlagTracker(self.policy)
                )
            if tracker.update(result, moving[index]) is not None:
                report.results[index] = dataclasses.replace(result, flagged=True)
                raised.append((tracker, len(tracker.flags) - 1, index))
        for tracker, position, index in raised:
            flag = tracker.flags[position]  # its final extent, after the dwell ended
            if index in frames:
                frame, mask, prediction = frames[index]
                report.flagged_frames[len(report.flags)] = (frame, mask)
                heat = self._heat_map(frame, prediction, flag.result)
                flag = dataclasses.replace(flag, heat_map=heat)
            report.flags.append(flag)

    def _heat_map(
        self, frame: Frame, prediction: Prediction | None, result: FieldResult
    ) -> np.ndarray | None:
        """The class activation map of a flagged field, from the prediction it was flagged on."""
        if self.extensions.cam_head is None or prediction is None or self.classifier is None:
            return None
        return flag_heat_map(
            self.classifier, self.extensions.cam_head, prediction, result, frame.image.shape
        )
