"""Image fields read and analysed ahead on worker threads give the run of one thread exactly."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from allscope.commands.analyze import report_json
from allscope.core.batch import BatchAnalyzer, BatchReport
from allscope.core.cells.classifier import CellClassifier
from allscope.core.classifier import Classifier
from allscope.core.sources.demo.slide import render_field
from allscope.testing import write_tiny_cells_package, write_tiny_package


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    field = Classifier(write_tiny_package(folder / "fields", threshold=0.5).path,
                       mode="throughput", inference_precision="f32")
    cells = CellClassifier(write_tiny_cells_package(folder / "cells", suppress_background=True),
                           inference_precision="f32")
    return field, cells


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """Fields with cells, an empty field, a partly decoded JPEG and files that cannot be read,
    spread between readable ones (the numbering must skip only the unreadable)."""
    folder = tmp_path_factory.mktemp("mixed")
    fields = [render_field(320, 240, seed=s, n_wbc=1 + s % 3)[0] for s in range(9)]
    for index, image in enumerate(fields):
        cv2.imwrite(str(folder / f"f{index:02d}.png"), image)
    blank = np.full((200, 200, 3), 225, np.uint8)
    cv2.imwrite(str(folder / "f03b_blank.png"), blank)
    (folder / "f04b_empty.jpg").write_bytes(b"")
    (folder / "f05b_text.bmp").write_text("not an image")
    jpeg = cv2.imencode(".jpg", fields[2])[1].tobytes()
    (folder / "f06b_truncated.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    damaged = bytearray(cv2.imencode(".jpg", fields[4], [cv2.IMWRITE_JPEG_QUALITY, 95])[1])
    cut = len(damaged) // 2  # the data ends early but the end-of-image marker is there
    cv2.imwrite(str(folder / "f07b_grey.png"), cv2.cvtColor(fields[5], cv2.COLOR_BGR2GRAY))
    (folder / "f08b_damaged.jpg").write_bytes(bytes(damaged[:cut]) + b"\xff\xd9")
    return folder


def runs(folder, field, cells, normalize, workers=(0, 1, 3)) -> list[BatchReport]:
    return [BatchAnalyzer(field, cell_classifier=cells, normalize=normalize, workers=w,
                          keep_flagged_frames=True).run([folder]) for w in workers]


def comparable(report: BatchReport, field, cells) -> tuple:
    """Everything a run gives, with the arrays as lists (``report_json`` is the JSON output)."""
    document = report_json(report, field, True, cells)
    results = [(r.frame_id, r.name, r.wbc_count, r.mask_coverage, r.assessable, r.reasons,
                r.probabilities, r.label, r.p_all, r.flagged, r.subtype, r.needs_look,
                None if r.cells is None else [(c.cell.bbox, c.cell.area_px, c.p_blast,
                                               c.label, c.is_blast, c.features.tolist())
                                              for c in r.cells.calls])
               for r in report.results]
    errors = [(e.source, e.frame, e.error) for e in report.errors]
    flags = [(f.start_index, f.end_index, f.label, f.p_all) for f in report.flags]
    kept = {k: (f.name, m.mask.tobytes()) for k, (f, m) in report.flagged_frames.items()}
    return document, results, errors, flags, kept


@pytest.mark.parametrize("normalize", [False, True])
def test_workers_give_the_single_thread_run_exactly(models, mixed_folder, normalize):
    field, cells = models
    single, *threaded = runs(mixed_folder, field, cells, normalize)
    expected = comparable(single, field, cells)
    assert single.analysed == 12  # 9 rendered, the blank, the grey and the damaged JPEG
    assert len(single.errors) == 3  # empty, not an image, truncated
    assert any(not r.assessable and r.wbc_count == 0 for r in single.results)  # the blank
    damaged = next(r for r in single.results if r.name == "f08b_damaged")
    assert not damaged.assessable and any("partly decoded" in r for r in damaged.reasons)
    assert [r.frame_id for r in single.results] == list(range(12))  # unreadable: no number
    assert sum(len(r.cells.calls) for r in single.results if r.cells) > 9
    for report in threaded:
        assert comparable(report, field, cells) == expected


def test_workers_without_models_give_masks_and_counts_alike(mixed_folder, tmp_path):
    seen: dict[int, list] = {0: [], 2: []}
    for workers, masks in seen.items():
        analyzer = BatchAnalyzer(None, workers=workers,
                                 mask_sink=lambda frame, mask, masks=masks: masks.append(
                                     (frame.id, frame.name, mask.mask.tobytes())))
        report = analyzer.run([mixed_folder, mixed_folder / "f01.png"])
        masks.append([(r.name, r.wbc_count, r.assessable) for r in report.results])
        masks.append([(e.source, e.error) for e in report.errors])
    assert seen[0] == seen[2]
    assert len(seen[0]) == 12 + 1 + 2


def test_shipped_models_on_shared_fields_alike_with_and_without_workers(tmp_path):
    from allscope.core.model_loading import (
        has_cell_package,
        has_model_package,
        load_cell_classifier,
        load_classifier,
    )
    from allscope.paths import shared_data_dir

    files = sorted((shared_data_dir() / "all-fields").rglob("*.jpg"))[::90]
    if not files or not has_cell_package() or not has_model_package():
        pytest.skip("needs ../shared/data/all-fields and the shipped model packages")
    for path in files:
        (tmp_path / f"{path.parent.name}_{path.name}").symlink_to(path)
    field = load_classifier(None, mode="throughput")
    cells = load_cell_classifier(None)
    single, threaded = runs(tmp_path, field, cells, True, workers=(0, 2))
    assert single.analysed == len(files)
    assert comparable(threaded, field, cells) == comparable(single, field, cells)


def test_opencv_threads_are_given_back_after_a_run_with_workers(mixed_folder):
    import cv2

    before = cv2.getNumThreads()
    cv2.setNumThreads(2)
    try:
        report = BatchAnalyzer(None, workers=2).run([mixed_folder])
        assert report.analysed == 12
        assert cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)
