"""A batch run's tally and the cells it counted: one run id per counted cell across images and
videos, carried by every field's cells, and the same tally once a session keeps the run.
Real masking, real motion measurement, a real tiny OpenVINO cell model, a real store."""

from __future__ import annotations

import cv2
import pytest
from cell_fields import discs_field

from allscope.core.batch import BatchAnalyzer
from allscope.core.cells.classifier import CellClassifier
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.store import SessionInfo, SessionStore
from allscope.testing import write_tiny_cells_package

CENTRES = [(50, 60), (140, 70), (100, 150)]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """Two image fields (three and two cells) and a still video of the three-cell field."""
    root = tmp_path_factory.mktemp("batch")
    (root / "images").mkdir()
    cv2.imwrite(str(root / "images" / "a.png"), discs_field(CENTRES, 14))
    cv2.imwrite(str(root / "images" / "b.png"), discs_field(CENTRES[:2], 14))
    image = discs_field(CENTRES, 14)
    writer = cv2.VideoWriter(str(root / "v.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 10.0,
                             (image.shape[1], image.shape[0]))
    for _ in range(6):
        writer.write(image)
    writer.release()
    model = CellClassifier(write_tiny_cells_package(root / "cells"))
    return BatchAnalyzer(None, cell_classifier=model).run([root / "images", root / "v.avi"])


def test_every_counted_cell_has_one_run_id_and_the_fields_cells_carry_it(report):
    images = [r for r in report.results if r.frame_index is None]
    frames = [r for r in report.results if r.frame_index is not None and r.cells_judged]
    assert [len(r.cells.calls) for r in images] == [3, 2] and len(frames) >= 4
    image_ids = [i for r in images for i in r.cells.track_ids]
    assert sorted(image_ids) == list(range(5))  # each image cell its own id
    video_ids = {r.cells.track_ids for r in frames}
    assert len(video_ids) == 1  # the same three cells in every frame of the still video ...
    [ids] = video_ids
    assert sorted(ids) == [5, 6, 7]  # ... counted once, after the image cells
    assert [t.id for t in report.counted.tracks] == list(range(8))
    assert (report.tally.wbc, report.tally.blasts) == (8, 8)


def test_a_session_keeping_the_run_counts_the_same_cells(report, tmp_path):
    with SessionStore(tmp_path / "store") as store:
        sid = store.create_session(SessionInfo())
        assert store.record_tally(sid, report.counted) == 8
        kept = [report.results[0], next(r for r in report.results if r.frame_index == 3)]
        image = discs_field(CENTRES, 14)
        for result in kept:  # two saved fields: an image and a video frame, with their cells
            store.add_field(sid, "flag", image, lab_kmeans_mask(image), result)
        assert len(store.cells(session_id=sid)) == 6
        assert store.cell_tally(sid) == report.tally
