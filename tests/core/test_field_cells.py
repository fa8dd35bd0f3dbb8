"""The per-field analysis with cells: real threads, real masking, real tiny OpenVINO models
for the field and the cells. The cells decide; the field model reads the subtype."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from allscope.core.batch import BatchAnalyzer
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import CELL_MODEL_FAILED, FieldCells, judge_cells
from allscope.core.classifier import Classifier
from allscope.core.field_analysis import decide
from allscope.core.flags import FlagPolicy, FlagTracker
from allscope.core.frames import Frame
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.model_package import seal_package
from allscope.core.ood import OUTSIDE
from allscope.core.pipeline import Pipeline
from allscope.core.results import FieldResult
from allscope.testing import write_tiny_cells_package, write_tiny_package

sys.path.insert(0, str(Path(__file__).parent / "cells"))
from cell_fields import discs_field
from trust_helpers import Repeat

CENTRES = [(50, 60), (140, 70), (100, 150)]


@pytest.fixture()
def field_model(tmp_path):
    """The tiny field model, told that every field is outside its experience."""
    package = write_tiny_package(tmp_path / "field")
    meta = json.loads((package.path / "model.json").read_text())
    meta["ood"] = {"kind": "energy", "threshold": -1e6, "temperature": 1.0}
    (package.path / "model.json").write_text(json.dumps(meta))
    seal_package(package.path)  # the edited model.json is sealed into the manifest again
    return Classifier(package.path, inference_precision="f32")


def cells_model(tmp_path, threshold=0.5):
    return CellClassifier(
        write_tiny_cells_package(tmp_path / f"cells{threshold}", threshold=threshold)
    )


def run(image, classifier, cell_classifier, count=12):
    flags, results = [], []
    pipeline = Pipeline(
        Repeat(image, count),
        classifier,
        FlagPolicy(threshold=0.3, consecutive=2),
        cell_classifier=cell_classifier,
    )
    pipeline.add_flag_listener(lambda flag, frame, mask: flags.append(flag))
    pipeline.add_result_listener(results.append)
    pipeline.start()
    assert pipeline.wait(timeout=30)
    pipeline.stop()
    return pipeline, flags, results


def test_cells_decide_even_where_the_field_model_abstains(tmp_path, field_model):
    pipeline, flags, results = run(discs_field(CENTRES, 14), field_model, cells_model(tmp_path))
    judged = [r for r in results if r.cells is not None]
    assert judged and all(
        r.cells_judged and r.assessable and r.ood_score is not None for r in judged
    )
    assert all(len(r.cells.calls) == 3 and r.cells.blasts == 3 for r in judged)
    assert all(f"subtype: {OUTSIDE}" in r.reasons and r.subtype is None for r in judged)
    assert len(flags) == 1 and flags[0].p_blast == pytest.approx(judged[0].cells.p_blast_max)
    tally = pipeline.tally()
    assert (tally.wbc, tally.blasts) == (3, 3)  # 12 frames of the same 3 cells: each once
    stats = pipeline.stats()
    assert stats.cells_judged == 3 * len(judged) and stats.cells_per_s > 0


def test_without_a_blast_cell_the_field_model_alone_raises_no_flag(tmp_path):
    field = Classifier(write_tiny_package(tmp_path / "plain"), inference_precision="f32")
    strict = cells_model(tmp_path, threshold=0.9999)
    _, flags, results = run(discs_field(CENTRES, 14), field, strict)
    judged = [r for r in results if r.cells is not None]
    assert judged and all(r.p_all > 0.5 and r.cells.blasts == 0 for r in judged)  # policy: 0.3
    assert flags == []
    _, flags, results = run(discs_field(CENTRES, 14), field, cells_model(tmp_path))
    assert len(flags) == 1 and flags[0].label == flags[0].result.subtype != "Benign"


def test_a_cell_model_alone_drives_the_pipeline(tmp_path):
    pipeline, flags, results = run(discs_field(CENTRES, 14), None, cells_model(tmp_path))
    assert len(flags) == 1 and flags[0].result.subtype is None
    assert pipeline.tally().wbc == 3


def test_a_field_whose_cells_cannot_be_judged_needs_a_look_and_is_never_flagged(tmp_path):
    model = cells_model(tmp_path)
    field = discs_field(CENTRES, 14)
    wrong_mask = lab_kmeans_mask(cv2.resize(field, (100, 100)))  # a mask of another field
    cells = judge_cells(model, field, wrong_mask)
    assert not cells.judged and cells.reason.startswith(CELL_MODEL_FAILED)
    base = FieldResult(
        frame_id=0,
        timestamp=0.0,
        source="t",
        name="f",
        wbc_count=3,
        mask_coverage=0.1,
        assessable=True,
    )
    result = decide(base, None, cells)
    assert result.needs_look and result.assessable and cells.reason in result.reasons
    tracker = FlagTracker(FlagPolicy(consecutive=1))
    assert tracker.update(result) is None


def test_judged_cells_cannot_be_changed_afterwards(tmp_path):
    field = discs_field(CENTRES, 14)
    cells = judge_cells(cells_model(tmp_path), field, lab_kmeans_mask(field))
    assert (
        isinstance(cells, FieldCells)
        and cells.judged
        and set(cells.timings_ms) == {"cell_detect", "cell_crop", "cell_classify"}
    )
    with pytest.raises(ValueError):
        cells.calls[0].cell.contour[0, 0] = 5
    with pytest.raises(ValueError):
        cells.calls[0].features[0] = 1.0


def test_batch_judges_every_cell_and_tallies_each_image_cell_once(tmp_path, field_model):
    folder = tmp_path / "fields"
    folder.mkdir()
    cv2.imwrite(str(folder / "a.png"), discs_field(CENTRES, 14))
    cv2.imwrite(str(folder / "b.png"), discs_field(CENTRES[:2], 14))
    seen = []
    analyzer = BatchAnalyzer(
        field_model,
        cell_classifier=cells_model(tmp_path),
        cell_sink=lambda frame, cells: seen.append((frame.name, len(cells.calls))),
    )
    report = analyzer.run([folder])
    assert sorted(seen) == [("a", 3), ("b", 2)]
    assert [len(r.cells.calls) for r in report.results] == [3, 2]
    assert report.tally is not None and (report.tally.wbc, report.tally.blasts) == (5, 5)
    assert len(report.flags) == 2 and all(f.p_blast is not None for f in report.flags)
    blank = np.full((200, 200, 3), 230, np.uint8)
    cv2.imwrite(str(folder / "c.png"), blank)
    report = analyzer.run([folder])
    assert report.results[-1].cells is None and not report.results[-1].assessable


def test_reaching_the_target_count_is_announced_once(tmp_path):
    messages = []
    pipeline = Pipeline(
        Repeat(discs_field(CENTRES, 14), 10),
        None,
        cell_classifier=cells_model(tmp_path),
        cell_target=3,
    )
    pipeline.add_status_listener(lambda level, text: messages.append((level, text)))
    pipeline.start()
    assert pipeline.wait(timeout=30)
    pipeline.stop()
    assert messages == [("info", "count complete: 3 white cells examined")]
    assert pipeline.tally().complete


def test_a_flag_raised_by_cells_never_carries_the_benign_field_label(tmp_path, field_model):
    _, flags, _ = run(discs_field(CENTRES, 14), field_model, cells_model(tmp_path))
    assert len(flags) == 1 and flags[0].result.subtype is None  # the field model abstained
    assert flags[0].label == "blast"


def test_a_hand_capture_has_its_cells_judged_too(tmp_path):
    from allscope.core.field_analysis import base_result
    from allscope.core.pipeline import LiveSnapshot

    image = discs_field(CENTRES, 14)
    pipeline = Pipeline(Repeat(image, 1), None, cell_classifier=cells_model(tmp_path))
    frame = Frame(id=4, timestamp=0.0, image=image, source="test")
    mask = lab_kmeans_mask(image)
    captured = pipeline.classify_now(
        LiveSnapshot(frame, mask, base_result(frame, mask, True, (), {}), None, False)
    )
    assert captured.cells_judged and len(captured.cells.calls) == 3 and captured.suspicious


def _recoloured(bgr: np.ndarray) -> np.ndarray:
    """A colour normaliser's kind of change: the cells stay where they are, their colours move."""
    return cv2.convertScaleAbs(bgr, alpha=0.75, beta=40)


def test_live_cells_are_judged_on_the_recorded_pixels_with_the_normalised_mask(tmp_path):
    """The mask and the field model see the normalised frame; the cell model sees the pixels it
    was trained and measured on (normalised crops made BCCD's normal cells look like blasts)."""
    image = discs_field(CENTRES, 14)
    cells = cells_model(tmp_path)
    pipeline = Pipeline(Repeat(image, 6), None, FlagPolicy(threshold=0.3, consecutive=2),
                        cell_classifier=cells, normalizer=_recoloured)
    results: list[FieldResult] = []
    pipeline.add_result_listener(results.append)
    pipeline.start()
    assert pipeline.wait(timeout=30)
    pipeline.stop()
    snapshot = pipeline.latest()
    assert snapshot is not None and np.array_equal(snapshot.raw, image)
    assert np.array_equal(snapshot.frame.image, _recoloured(image))
    judged = [r for r in results if r.cells is not None and r.cells.judged]
    on_raw = judge_cells(cells, image, snapshot.mask)
    on_normalised = judge_cells(cells, _recoloured(image), snapshot.mask)
    p_raw = [c.p_blast for c in on_raw.calls]
    assert len(p_raw) == 3
    assert not np.allclose(p_raw, [c.p_blast for c in on_normalised.calls], atol=1e-3)
    assert judged and [c.p_blast for c in judged[-1].cells.calls] == pytest.approx(p_raw, abs=1e-5)
def test_analyze_judges_cells_on_the_recorded_pixels_with_the_normalised_mask(tmp_path):
    from trust_helpers import demo_field

    from allscope.core.colour.calibration import ColourNormalizer

    image, _ = demo_field()  # a smear field the normaliser leaves assessable
    cv2.imwrite(str(tmp_path / "field.png"), image)
    cells = cells_model(tmp_path)
    analyzer = BatchAnalyzer(None, normalize=True, cell_classifier=cells)
    report = analyzer.run([tmp_path / "field.png"])
    normalised = ColourNormalizer()(image)
    mask = lab_kmeans_mask(normalised)
    on_raw = [c.p_blast for c in judge_cells(cells, image, mask).calls]
    on_normalised = [c.p_blast for c in judge_cells(cells, normalised, mask).calls]
    assert on_raw and not np.allclose(on_raw, on_normalised, atol=1e-3)
    (result,) = report.results
    assert result.assessable and result.cells is not None
    assert [c.p_blast for c in result.cells.calls] == pytest.approx(on_raw, abs=1e-5)
