"""The live pipeline's less travelled paths, with real threads, real masking and real tiny
OpenVINO models: a busy field model, a policy changed before the run, a source that ignores
stop or is slow to start, the repeated hand capture, and the order in which a field's halves
arrive (the field model's answer last; an answer that comes after stop)."""

from __future__ import annotations

import dataclasses
import logging
import sys
import threading
import time
from pathlib import Path

import pytest

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.classifier import Classifier, prepare_field
from allscope.core.flags import FlagPolicy
from allscope.core.frames import Frame, FrameSource
from allscope.core.pipeline import LiveSnapshot, Pipeline, _Pending
from allscope.testing import write_tiny_cells_package, write_tiny_package

sys.path.insert(0, str(Path(__file__).parent / "cells"))
from cell_fields import discs_field
from test_pipeline import ListSource, SteppedSource, smear

CENTRES = [(50, 60), (140, 70), (100, 150)]


@pytest.fixture()
def classifier(tmp_path):
    return Classifier(write_tiny_package(tmp_path / "tiny"), inference_precision="f32")


def run_to_end(pipeline: Pipeline) -> None:
    pipeline.start()
    assert pipeline.wait(timeout=30), "pipeline did not finish its finite source"
    pipeline.stop()


def test_a_frame_that_finds_the_field_model_busy_is_shown_but_not_classified(tmp_path):
    """The one request is held by another inference: frames go on being masked and shown,
    none waits for the model and none is classified."""
    busy = Classifier(write_tiny_package(tmp_path / "one"), num_requests=1)
    entered, release = threading.Event(), threading.Event()
    field = prepare_field(smear(True), None, busy.spec)
    assert busy.try_submit(field, None, lambda *_: (entered.set(), release.wait(30)))
    assert entered.wait(30)
    source = SteppedSource([smear(True, s) for s in range(4)])
    pipeline = Pipeline(source, busy)
    results = []
    pipeline.add_result_listener(lambda r: (results.append(r), source.done.release()))
    try:
        run_to_end(pipeline)
    finally:
        release.set()
        busy.wait()
    assert [r.frame_id for r in results] == [0, 1, 2, 3]
    assert all(r.assessable and not r.classified and r.p_all is None for r in results)
    assert pipeline.stats().classified == 0 and pipeline.stats().processed == 4


def test_a_policy_set_before_the_run_decides_its_flags(classifier):
    images = [smear(True)] * 12
    usual = Pipeline(ListSource(images, fps=100), classifier, FlagPolicy(0.5, consecutive=2))
    run_to_end(usual)
    assert len(usual.flags) == 1 and usual.flags[0].p_all >= 0.5

    strict = Pipeline(ListSource(images, fps=100), classifier, FlagPolicy(0.5, consecutive=2))
    never = FlagPolicy(threshold=1.0, consecutive=2)  # no P(ALL) below 1 reaches it
    strict.set_policy(never)
    assert strict.policy is never
    run_to_end(strict)
    assert strict.stats().classified > 0 and strict.flags == []


def test_a_pipeline_starts_once_with_its_two_threads(classifier):
    pipeline = Pipeline(ListSource([smear(True)] * 3, fps=100), classifier)
    pipeline.start()
    try:
        assert [t.name for t in pipeline.threads()] == ["allscope-capture", "allscope-process"]
        with pytest.raises(RuntimeError, match="pipeline already started"):
            pipeline.start()
    finally:
        assert pipeline.wait(timeout=30)
        pipeline.stop()


class Stubborn(FrameSource):
    """Ignores stop: after its first frame it blocks until ``go`` is set, then yields forever."""

    def __init__(self) -> None:
        super().__init__()
        self.go = threading.Event()
        self.first = threading.Event()

    def describe(self) -> str:
        return "stubborn"

    def frames(self):
        for i in range(1_000_000):
            if i == 1:
                self.first.set()
                self.go.wait(30)
            yield Frame(id=i, timestamp=time.monotonic(), image=smear(False), source="stubborn")
            time.sleep(0.01)


def test_stop_says_which_thread_it_could_not_end_and_the_pipeline_leaves_it_later(caplog):
    source = Stubborn()
    pipeline = Pipeline(source)
    pipeline.start()
    assert source.first.wait(30)
    with caplog.at_level(logging.WARNING, logger="allscope.core.pipeline"):
        pipeline.stop(timeout=0.2)
    assert "threads still running after stop(): ['allscope-capture']" in caplog.text
    captured = pipeline.stats().captured
    source.go.set()  # the source goes on yielding; the pipeline leaves it at the next frame
    for thread in pipeline.threads():
        thread.join(30)
    assert not pipeline.running
    assert pipeline.stats().captured == captured == 1


class SlowStart(FrameSource):
    """A camera that needs a while before its first frame (the processing thread waits)."""

    def __init__(self, images, delay: float) -> None:
        super().__init__()
        self.images, self.delay = images, delay

    def describe(self) -> str:
        return "slow start"

    def frames(self):
        time.sleep(self.delay)
        for i, image in enumerate(self.images):
            yield Frame(id=i, timestamp=time.monotonic(), image=image, source="slow start")
            time.sleep(0.05)


def test_a_source_slow_to_deliver_its_first_frame_is_waited_for(classifier):
    results = []
    pipeline = Pipeline(SlowStart([smear(True, s) for s in range(3)], delay=0.6), classifier)
    pipeline.add_result_listener(results.append)
    run_to_end(pipeline)
    stats = pipeline.stats()
    assert stats.captured == 3 and stats.processed + stats.dropped == 3
    assert len(results) == stats.processed


def test_a_hand_capture_of_the_field_just_classified_reuses_its_result(classifier):
    pipeline = Pipeline(ListSource([smear(True)] * 6, fps=30), classifier)
    run_to_end(pipeline)
    snapshot = pipeline.latest()
    assert snapshot is not None and snapshot.last_classified is not None
    classified = dataclasses.replace(snapshot.last_classified, frame_id=snapshot.frame.id)
    same = LiveSnapshot(snapshot.frame, snapshot.mask, snapshot.result, classified, False)
    assert pipeline.classify_now(same) is same.last_classified  # not classified a second time


@pytest.fixture()
def both_models(tmp_path, classifier):
    return classifier, CellClassifier(write_tiny_cells_package(tmp_path / "cells"))


def pending_field(pipeline: Pipeline, halves: int) -> _Pending:
    frame = Frame(id=7, timestamp=time.monotonic(), image=discs_field(CENTRES, 14), source="t")
    analysis = pipeline._analyze(frame)
    assert analysis.result.assessable and analysis.result.origin is not None
    return _Pending(frame, analysis.mask, analysis.result, False, time.perf_counter(), halves)


def test_when_the_field_model_answers_last_the_field_is_decided_with_its_cells(both_models):
    """Live, the cells are judged on the processing thread while the field model runs on an
    OpenVINO thread; here its answer is handed over last, on the test thread."""
    field_model, cell_model = both_models
    pipeline = Pipeline(ListSource([]), field_model, FlagPolicy(0.3, consecutive=1),
                        cell_classifier=cell_model)
    results, flags = [], []
    pipeline.add_result_listener(results.append)
    pipeline.add_flag_listener(lambda flag, frame, mask: flags.append((flag, frame.id)))
    pending = pending_field(pipeline, halves=2)
    pending.cells = judge_cells(cell_model, pending.frame.image, pending.mask)
    assert not pending.arrived()  # the cells are in; the field model's answer is not
    assert results == []
    prediction = field_model.predict_detailed(
        prepare_field(pending.frame.image, pending.mask, field_model.spec)
    )
    pipeline._on_inferred(prediction, pending)
    [result] = results
    assert result.classified and result.cells is not None and result.cells.blasts == 3
    assert len(result.cells.track_ids) == 3 and None not in result.cells.track_ids
    assert result.flagged and result.subtype is not None
    assert [(f.p_blast, frame_id) for f, frame_id in flags] == [(result.cells.p_blast_max, 7)]
    assert pipeline.stats().cells_judged == 3 and pipeline.stats().classified == 1
    assert pipeline.tally().wbc == 3


def test_an_answer_that_arrives_after_stop_is_dropped(classifier):
    pipeline = Pipeline(ListSource([]), classifier, FlagPolicy(0.3, consecutive=1))
    results = []
    pipeline.add_result_listener(results.append)
    run_to_end(pipeline)  # both threads have ended
    pending = pending_field(pipeline, halves=1)
    prediction = classifier.predict_detailed(
        prepare_field(pending.frame.image, pending.mask, classifier.spec)
    )
    pipeline._on_inferred(prediction, pending)
    assert results == [] and pipeline.flags == [] and pipeline.stats().classified == 0


def test_stopping_while_the_cell_model_warms_up_captures_no_frame(tmp_path):
    """Capture waits for the cell model to be ready, so no frame is read (and dropped) early;
    a stop during that wait ends the run with nothing captured."""
    cells = CellClassifier(write_tiny_cells_package(tmp_path / "cells"))
    pipeline = Pipeline(ListSource([smear(True)] * 50, fps=100), cell_classifier=cells)
    results = []
    pipeline.add_result_listener(results.append)
    pipeline.start()
    pipeline.stop()
    assert not pipeline.running
    assert pipeline.stats().captured == 0 and results == []
