"""Cells of many fields pooled into fixed batches (analyze) are judged as field by field."""

from __future__ import annotations

import threading

import cv2
import numpy as np
import pytest
from cell_fields import discs_field

from allscope.core.batch import BatchAnalyzer
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import CELL_MODEL_FAILED, FieldCells, cut_cells, judge_cells
from allscope.core.cells.pool import CellPool
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.testing import write_tiny_cells_package

LAYOUTS = [  # 3, 1, 0, 5 and 2 cells: fields straddle batches of 4
    [(50, 60), (140, 70), (100, 150)],
    [(100, 100)],
    [],
    [(40, 40), (160, 40), (100, 100), (40, 160), (160, 160)],
    [(60, 100), (150, 100)],
]


@pytest.fixture()
def classifier(tmp_path):
    package = write_tiny_cells_package(tmp_path / "cells", suppress_background=True)
    return CellClassifier(package, inference_precision="f32")


def fields():
    return [discs_field(centres, radius=14) for centres in LAYOUTS]


def same_cells(pooled: FieldCells, alone: FieldCells) -> None:
    assert (pooled.judged, pooled.reason) == (alone.judged, alone.reason)
    assert [c.cell.bbox for c in pooled.calls] == [c.cell.bbox for c in alone.calls]
    for a, b in zip(pooled.calls, alone.calls, strict=True):
        assert a.p_blast == pytest.approx(b.p_blast, abs=1e-6)
        assert (a.label, a.is_blast) == (b.label, b.is_blast)
        np.testing.assert_allclose(a.features, b.features, atol=1e-6)


@pytest.mark.parametrize("batch", [1, 4, 16])
def test_pooled_fields_get_the_cells_judged_field_by_field(classifier, batch):
    pool = CellPool(classifier, batch=batch)
    got: dict[int, FieldCells] = {}
    lock = threading.Lock()

    def keep(index: int, cells: FieldCells) -> None:
        with lock:
            got[index] = cells

    images = fields()
    for index, image in enumerate(images):
        pool.submit(cut_cells(classifier, image, lab_kmeans_mask(image)),
                    lambda cells, index=index: keep(index, cells))
    pool.flush()
    pool.wait()
    assert sorted(got) == list(range(len(images)))
    for index, image in enumerate(images):
        same_cells(got[index], judge_cells(classifier, image, lab_kmeans_mask(image)))
    assert [len(got[i].calls) for i in range(len(images))] == [3, 1, 0, 5, 2]


def captured_batches(pool: CellPool) -> list:
    """Finished batches are kept (request, segments) instead of being concluded on
    OpenVINO's thread, so that the test thread concludes them with ``_finished``."""
    batches: list = []
    pool._queue.set_callback(lambda request, segments: batches.append((request, segments)))
    return batches


def test_a_finished_batch_gives_each_field_its_own_rows(classifier):
    """One padded batch of 16 holds the 11 cells of five fields; each field gets its rows."""
    pool = CellPool(classifier, batch=16)
    batches = captured_batches(pool)
    got: dict[int, FieldCells] = {}
    images = fields()
    for index, image in enumerate(images):
        pool.submit(cut_cells(classifier, image, lab_kmeans_mask(image)),
                    lambda cells, index=index: got.__setitem__(index, cells))
    assert sorted(got) == [2]  # the field without a cell needs no inference
    pool.flush()
    pool.flush()  # nothing left to send: no empty batch is started
    pool.wait()
    ((request, segments),) = batches
    assert [(first, count, slot) for _, first, count, slot in segments] == [
        (0, 3, 0), (0, 1, 3), (0, 5, 4), (0, 2, 9)
    ]
    pool._finished(request, segments)
    assert sorted(got) == list(range(len(images)))
    for index, image in enumerate(images):
        same_cells(got[index], judge_cells(classifier, image, lab_kmeans_mask(image)))


class FailedRequest:
    """Stands in for an OpenVINO request whose inference failed: its outputs cannot be read."""

    def get_output_tensor(self, index: int):
        raise RuntimeError("Infer Request was canceled")


def test_a_failed_batch_leaves_each_of_its_fields_needing_a_look(classifier):
    """A field whose crops span a failed batch and a good one is not judged; a field wholly in
    the good batch is."""
    pool = CellPool(classifier, batch=4)
    batches = captured_batches(pool)
    got: dict[str, FieldCells] = {}
    five, two = discs_field(LAYOUTS[3], radius=14), discs_field(LAYOUTS[4], radius=14)
    pool.submit(cut_cells(classifier, five, lab_kmeans_mask(five)),
                lambda cells: got.__setitem__("five", cells))
    pool.submit(cut_cells(classifier, two, lab_kmeans_mask(two)),
                lambda cells: got.__setitem__("two", cells))
    pool.flush()
    pool.wait()
    (_, failed), (request, good) = batches  # [five 0-3], [five 4, two 0-1, padding]
    pool._finished(FailedRequest(), failed)
    assert got == {}  # "five" still waits for its last crop
    pool._finished(request, good)
    assert not got["five"].judged and got["five"].calls == ()
    assert got["five"].reason == f"{CELL_MODEL_FAILED}: Infer Request was canceled"
    same_cells(got["two"], judge_cells(classifier, two, lab_kmeans_mask(two)))


def test_analyze_with_pooled_cells_reports_every_field_in_input_order(classifier, tmp_path):
    folder = tmp_path / "fields"
    folder.mkdir()
    images = fields() * 3
    for index, image in enumerate(images):
        cv2.imwrite(str(folder / f"field_{index:02d}.png"), image)
    report = BatchAnalyzer(None, cell_classifier=classifier).run([folder])
    assert [r.name for r in report.results] == [f"field_{i:02d}" for i in range(len(images))]
    judged = 0
    for result, image in zip(report.results, images, strict=True):
        if not result.assessable:  # the field without a cell: nothing to judge
            assert result.cells is None and result.wbc_count == 0
            continue
        judged += 1
        assert result.cells is not None
        same_cells(result.cells, judge_cells(classifier, image, lab_kmeans_mask(image)))
    assert judged == 12
    assert report.tally is not None
    assert report.tally.wbc == sum(len(r.cells.calls) for r in report.results if r.cells)


def test_a_field_whose_cells_cannot_be_saved_becomes_an_error_row(classifier, tmp_path):
    folder = tmp_path / "fields"
    folder.mkdir()
    for index, image in enumerate(fields()):
        cv2.imwrite(str(folder / f"field_{index:02d}.png"), image)

    def sink(frame, cells):
        if frame.name == "field_03":
            raise OSError("disk full")

    report = BatchAnalyzer(None, cell_classifier=classifier, cell_sink=sink).run([folder])
    assert [r.name for r in report.results] == ["field_00", "field_01", "field_02", "field_04"]
    (error,) = report.errors
    assert error.source.endswith("field_03.png") and "OSError: disk full" in error.error


def test_the_shipped_model_pooled_on_shared_fields_equals_field_by_field(tmp_path):
    from allscope.core.model_loading import has_cell_package, load_cell_classifier
    from allscope.paths import shared_data_dir

    files = sorted((shared_data_dir() / "all-fields").rglob("*.jpg"))[::120]
    if not files or not has_cell_package():
        pytest.skip("needs ../shared/data/all-fields and the shipped models/cells package")
    for path in files:
        (tmp_path / path.name).symlink_to(path)
    classifier = load_cell_classifier(None)
    report = BatchAnalyzer(None, cell_classifier=classifier).run([tmp_path])
    assert len(report.results) == len(files)
    compared = 0
    for result in report.results:
        if result.cells is not None:
            image = cv2.imread(result.path or "")
            same_cells(result.cells, judge_cells(classifier, image, lab_kmeans_mask(image)))
            compared += len(result.cells.calls)
    assert compared >= len(files)
