"""Joining a batch field's two halves (``allscope.core.batch_decisions``) with real tiny
OpenVINO models: the field is decided once both halves are in, whatever their order; a field
that fails on the way becomes its own error row; only frames that can be flagged are kept.

In a batch run the halves arrive on OpenVINO's threads; here the test thread hands them over
in the orders those threads can produce.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from allscope.core.batch_decisions import Decisions
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.classifier import Classifier, prepare_field
from allscope.core.field_analysis import FieldAnalyzer, classified_result, decide
from allscope.core.flags import FlagPolicy
from allscope.core.frames import Frame
from allscope.core.ood import FeatureStats, OodDetector
from allscope.testing import write_tiny_cells_package, write_tiny_package

sys.path.insert(0, str(Path(__file__).parent / "cells"))
from cell_fields import discs_field

CENTRES = [(50, 60), (140, 70), (100, 150)]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    field = Classifier(write_tiny_package(root / "field"), inference_precision="f32")
    cells = CellClassifier(write_tiny_cells_package(root / "cells"))
    return field, cells


@pytest.fixture(scope="module")
def halves(models):
    """One analysed field of three blast-like cells: its frame, result, prediction, cells."""
    field, cells = models
    frame = Frame(0, 0.0, discs_field(CENTRES, 14), "test", name="field", path="field.png")
    analysis = FieldAnalyzer(stream=False)(frame)
    assert analysis.result.assessable
    prediction = field.predict_detailed(prepare_field(frame.image, analysis.mask, field.spec))
    judged = judge_cells(cells, frame.image, analysis.mask)
    assert judged.judged and judged.blasts == 3
    return frame, analysis.mask, analysis.result, prediction, judged


class Run:
    """The run's shared state, as ``BatchAnalyzer.run`` keeps it."""

    def __init__(self, classifier, *, threshold=0.5, ood=None, cell_sink=None):
        self.slots: list = []
        self.frames: dict = {}
        self.errors: list[tuple[str, str]] = []
        self.decisions = Decisions(
            self.slots, self.frames, threading.Lock(), FlagPolicy(threshold=threshold),
            lambda result, message: self.errors.append((result.path, message)),
            classifier, ood, cell_sink,
        )

    def expect(self, result, halves, frame=None, mask=None):
        self.slots.append(result)
        index = len(self.slots) - 1
        if frame is not None:
            self.frames[index] = (frame, mask, None)
        self.decisions.expect(index, result, halves)
        return index


@pytest.mark.parametrize("cells_first", [False, True])
def test_a_field_is_decided_once_both_halves_are_in_in_either_order(models, halves, cells_first):
    field, _ = models
    frame, mask, result, prediction, cells = halves
    run = Run(field)
    index = run.expect(result, 2, frame, mask)
    if cells_first:
        run.decisions.on_cells(index, frame, cells)
        assert run.slots[index] is result  # waiting for the prediction: not decided yet
        run.decisions.on_prediction(prediction, index)
    else:
        run.decisions.on_prediction(prediction, index)
        assert run.slots[index] is result
        run.decisions.on_cells(index, frame, cells)
    decided = run.slots[index]
    assert decided == classified_result(result, field, prediction, 0.0, None, cells)
    assert decided.cells is cells and decided.subtype is not None  # the cells decide
    assert run.errors == []
    kept_frame, kept_mask, kept_prediction = run.frames[index]
    assert kept_frame is frame and kept_mask is mask
    assert kept_prediction is prediction  # a flag's heat map reuses the prediction


def test_a_field_below_the_threshold_does_not_keep_its_frame(models, halves):
    field, _ = models
    frame, mask, result, prediction, _cells = halves
    run = Run(field, threshold=1.0)  # no P(ALL) reaches it: nothing can be flagged
    index = run.expect(result, 1, frame, mask)
    run.decisions.on_prediction(prediction, index)
    assert run.slots[index].p_all == pytest.approx(field.p_all(prediction.probabilities))
    assert run.frames == {}


def test_cells_alone_decide_a_field_without_a_field_model(halves):
    frame, mask, result, _prediction, cells = halves
    run = Run(None, threshold=0.5)
    index = run.expect(result, 1, frame, mask)
    run.decisions.on_cells(index, frame, cells)
    assert run.slots[index] == decide(result, None, cells)
    assert run.slots[index].cells.blasts == 3
    assert run.frames[index] == (frame, mask, None)  # kept: its cells can raise a flag


def test_a_cell_sink_that_fails_makes_that_field_an_error_row(models, halves):
    field, _ = models
    frame, mask, result, prediction, cells = halves

    def full_disk(frame, cells):
        raise OSError(28, "No space left on device")

    run = Run(field, cell_sink=full_disk)
    index = run.expect(result, 2, frame, mask)
    other = run.expect(result, 1)
    run.decisions.on_cells(index, frame, cells)
    assert run.errors == []  # the field still waits for its prediction
    run.decisions.on_prediction(prediction, index)
    assert run.slots[index] is None
    assert run.errors == [
        ("field.png", "cannot be analysed (OSError: [Errno 28] No space left on device)")
    ]
    run.decisions.on_prediction(prediction, other)  # the other field is not affected
    assert run.slots[other] is not None and len(run.errors) == 1


def test_a_cell_sink_gets_every_fields_cells(models, halves):
    field, _ = models
    frame, mask, result, prediction, cells = halves
    sunk = []
    run = Run(field, cell_sink=lambda f, c: sunk.append((f.name, c.blasts)))
    index = run.expect(result, 2, frame, mask)
    run.decisions.on_cells(index, frame, cells)
    run.decisions.on_prediction(prediction, index)
    assert sunk == [("field", 3)]
    assert run.slots[index].cells is cells


def test_a_failing_classification_stays_in_its_field(models, halves):
    """A feature-distance detector needs the IR's "features" output, which the tiny model lacks:
    the decision raises, and that field becomes an error row instead of killing the thread."""
    field, _ = models
    frame, mask, result, prediction, _cells = halves
    rng = np.random.default_rng(0)
    stats = FeatureStats(np.eye(2, 4), np.ones(2), rng.normal(size=(4, 4)), np.ones(1))
    run = Run(field, ood=OodDetector("feature", 3.0, stats=stats))
    index = run.expect(result, 1, frame, mask)
    run.decisions.on_prediction(prediction, index)
    assert run.slots[index] is None
    assert run.frames[index][2] is None  # never decided, so no prediction is attached
    [(path, message)] = run.errors
    assert path == "field.png"
    assert message.startswith("classification failed (ValueError: the model has no 'features'")
