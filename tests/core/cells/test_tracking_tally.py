"""Each cell counted once: the demo slide scanned frame by frame, with real motion measurement,
real masking, a real tiny OpenVINO cell model and the tracker; and the tally's statistics."""

from __future__ import annotations

import itertools

import pytest
from scipy.stats import binomtest

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.cells.tally import called_label, tally_of, wilson_interval
from allscope.core.cells.tracking import CellTracker
from allscope.core.mask.lab_kmeans import LiveMasker
from allscope.core.motion import MotionDetector
from allscope.core.quality import QualityGate
from allscope.core.sources.demo.source import DemoSlideSource
from allscope.testing import write_tiny_cells_package


@pytest.fixture(scope="module")
def cell_model(tmp_path_factory):
    return CellClassifier(write_tiny_cells_package(tmp_path_factory.mktemp("m") / "cells"))


def scan(source, classifier, limit=None):
    """Run a source's frames as the live pipeline does: motion, mask, gate, cells, tracker."""
    motion, gate, masker = MotionDetector(), QualityGate(), LiveMasker()
    tracker = CellTracker(classifier.classes)
    judged = 0
    for n, frame in enumerate(source.frames()):
        if limit is not None and n >= limit:
            break
        moved = motion(frame.image)
        mask = masker(frame.image)
        if gate(frame, mask, moved)[0]:
            judged += 1
            tracker.update(motion.origin, judge_cells(classifier, frame.image, mask))
    return tracker, judged


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 2])
def test_a_panning_scan_counts_every_white_cell_of_the_slide_once(cell_model, seed):
    # The scan dwells on every painted white cell and pans between them; the requirement is
    # "each cell counted once", so the tolerance is zero: the tally equals the painted count.
    source = DemoSlideSource(320, 240, paced=False, loop=False, seed=seed, wbc_per_view=1.5)
    tracker, judged = scan(source, cell_model)
    assert judged > 100  # many frames of each cell were judged
    assert tracker.tally().wbc == len(source.wbcs)


def test_a_cell_seen_in_200_frames_counts_once(cell_model):
    source = DemoSlideSource(
        320, 240, paced=False, loop=False, seed=3, dwell_s=10.0, wbc_per_view=1.5
    )
    x, y = next(iter(source._pan_path().states())).x, next(iter(source._pan_path().states())).y
    inside = [
        c
        for c in source.wbcs
        if x <= c.bbox[0]
        and c.bbox[0] + c.bbox[2] <= x + 320
        and y <= c.bbox[1]
        and c.bbox[1] + c.bbox[3] <= y + 240
    ]
    tracker, judged = scan(source, cell_model, limit=200)
    assert judged >= 150 and inside
    assert tracker.tally().wbc == len(inside)
    assert all(t.sightings >= 150 for t in tracker.tracks)


def test_wilson_interval_matches_the_score_test_inversion():
    for k, n in ((0, 20), (3, 100), (50, 100), (20, 20)):
        low, high = wilson_interval(k, n)
        reference = binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert (low, high) == pytest.approx((reference.low, reference.high), abs=1e-9)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_tally_counts_blasts_by_the_call_and_announces_the_target():
    labels = [called_label({"blast": 0.3, "lymphocyte": 0.7}, True)] * 3
    labels += [called_label({"blast": 0.2, "lymphocyte": 0.1, "neutrophil": 0.7}, False)] * 97
    tally = tally_of(labels, ("blast", "lymphocyte", "neutrophil", "monocyte"), target=100)
    assert (tally.wbc, tally.blasts) == (100, 3)
    assert tally.per_class == {"blast": 3, "lymphocyte": 0, "neutrophil": 97, "monocyte": 0}
    assert tally.complete and tally.announcement() == "count complete: 100 white cells examined"
    record = tally.to_dict()
    assert record["blast_fraction"] == 0.03 and record["ci95"][0] < 0.03 < record["ci95"][1]
    assert not tally_of(labels[:99], target=100).complete
    with pytest.raises(ValueError, match="target"):
        tally_of([], target=0)


def test_neighbouring_cells_stay_apart_and_a_border_cell_starts_no_track(cell_model):
    from cell_fields import discs_field

    field = discs_field([(60, 60), (100, 60), (150, 150), (196, 100)], radius=14)
    from allscope.core.mask.lab_kmeans import lab_kmeans_mask

    cells = judge_cells(cell_model, field, lab_kmeans_mask(field))
    border = [c for c in cells.calls if c.cell.touches_border]
    assert len(border) == 1 and len(cells.calls) == 4
    tracker = CellTracker(cell_model.classes)
    ids = tracker.update((0.0, 0.0), cells)
    assert sum(i is None for i in ids) == 1 and len(set(ids) - {None}) == 3
    again = tracker.update((0.0, 0.0), cells)
    assert again == ids
    shifted = tracker.update((5.0, -3.0), cells)  # the stage drifted a little: same cells
    assert shifted == ids and tracker.tally().wbc == 3
    tracker.reset()
    assert tracker.tally().wbc == 0


@pytest.mark.slow
def test_a_dense_slide_tallies_exactly_the_cells_seen_whole(cell_model):
    # A dense slide (five white cells per view): after 600 frames the tally
    # equals the number of painted cells that lay wholly inside at least one judged view.
    source = DemoSlideSource(
        320, 240, paced=False, loop=False, seed=1, wbc_per_view=5.0, dwell_s=2.0,
        blast_fraction=1.0,  # round cells: a lobed neutrophil the detector splits in some
    )  # frames and not in others can be counted twice (a detection limit, not tracking's)
    motion, gate, masker = MotionDetector(), QualityGate(), LiveMasker()
    tracker, seen = CellTracker(cell_model.classes), set()
    for frame in itertools.islice(source.frames(), 600):
        moved, mask = motion(frame.image), masker(frame.image)
        if not gate(frame, mask, moved)[0]:
            continue
        tracker.update(motion.origin, judge_cells(cell_model, frame.image, mask))
        x, y = frame.meta["x"], frame.meta["y"]
        seen |= {
            i
            for i, c in enumerate(source.wbcs)
            if x < c.bbox[0]
            and c.bbox[0] + c.bbox[2] < x + 320
            and y < c.bbox[1]
            and c.bbox[1] + c.bbox[3] < y + 240
        }
    assert len(seen) >= 10
    assert tracker.tally().wbc == len(seen)
