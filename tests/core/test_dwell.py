"""Dwell detection: debounced still/moving with numbered dwells."""

import pytest

from allscope.core.dwell import DwellTracker


def run(tracker, pattern: str):
    """Feed a pattern of '.' (still) and 'm' (moving); return the dwell number after each frame."""
    return [tracker.update(c == "m").dwell for c in pattern]


def test_dwell_begins_after_settle_still_frames():
    assert run(DwellTracker(settle=3), "mm...") == [None, None, None, None, 1]


def test_one_moving_frame_does_not_end_a_dwell():
    assert run(DwellTracker(settle=2, leave=2), "..m..") == [None, 1, 1, 1, 1]


def test_leave_moving_frames_end_it_and_the_next_dwell_has_a_new_number():
    assert run(DwellTracker(settle=2, leave=2), "..mm..") == [None, 1, 1, None, None, 2]


def test_start_and_end_are_reported_once():
    tracker = DwellTracker(settle=1, leave=1)
    states = [tracker.update(m) for m in (False, False, True)]
    assert [s.started for s in states] == [True, False, False]
    assert [s.ended for s in states] == [False, False, True]


def test_reset_ends_the_dwell_without_reusing_its_number():
    tracker = DwellTracker(settle=1)
    tracker.update(False)
    tracker.reset()
    assert tracker.update(False).dwell == 2


def test_zero_settle_is_refused():
    with pytest.raises(ValueError, match="at least 1 frame"):
        DwellTracker(settle=0)
