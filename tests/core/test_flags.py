"""Flag policy: consecutive frames, one flag per dwell, hysteresis, stillness."""

import pytest

from allscope.core.flags import FlagPolicy, FlagTracker
from allscope.core.results import FieldResult

CLASSES = ("Benign", "Early Pre-B", "Pre-B", "Pro-B")


def result(frame_id: int, p_all: float, assessable: bool = True) -> FieldResult:
    probabilities = (1 - p_all, p_all, 0.0, 0.0)
    return FieldResult(
        frame_id=frame_id, timestamp=frame_id / 30, source="test", name=f"f{frame_id}", wbc_count=2,
        mask_coverage=0.05, assessable=assessable, classes=CLASSES, probabilities=probabilities,
        label="Early Pre-B" if p_all > 0.5 else "Benign", p_all=p_all,
    )


def feed(tracker: FlagTracker, values, start: int = 0, moving: bool = False):
    return [tracker.update(result(start + i, v), moving) for i, v in enumerate(values)]


def test_flag_needs_n_consecutive_frames_above_threshold():
    tracker = FlagTracker(FlagPolicy(threshold=0.6, consecutive=3))
    raised = feed(tracker, [0.7, 0.7, 0.1, 0.7, 0.7, 0.7])
    assert [i for i, f in enumerate(raised) if f] == [5]
    assert (tracker.flags[0].start_frame, tracker.flags[0].end_frame) == (3, 5)


def test_one_flag_per_dwell_even_when_probability_dips_and_returns():
    tracker = FlagTracker(FlagPolicy(threshold=0.6, consecutive=2, release=0.1))
    raised = feed(tracker, [0.9, 0.9, 0.9, 0.2, 0.2, 0.9, 0.9, 0.9])
    assert sum(f is not None for f in raised) == 1
    assert tracker.flags[0].end_frame == 7  # the open flag's extent grows while the dwell lasts


def test_hysteresis_keeps_a_streak_hovering_just_under_threshold():
    tracker = FlagTracker(FlagPolicy(threshold=0.6, consecutive=3, release=0.1))
    raised = feed(tracker, [0.65, 0.55, 0.62])  # 0.55 is within the release band
    assert raised[-1] is not None


def test_dropping_below_release_restarts_the_streak():
    tracker = FlagTracker(FlagPolicy(threshold=0.6, consecutive=3, release=0.1))
    assert all(f is None for f in feed(tracker, [0.65, 0.45, 0.65, 0.65]))


def test_a_new_dwell_can_raise_a_new_flag():
    tracker = FlagTracker(FlagPolicy(threshold=0.5, consecutive=2))
    feed(tracker, [0.9, 0.9])
    feed(tracker, [0.9, 0.9], start=2, moving=True)
    raised = feed(tracker, [0.9, 0.9], start=4)
    assert len(tracker.flags) == 2 and raised[-1] is not None


def test_moving_and_unassessable_frames_are_never_flagged():
    tracker = FlagTracker(FlagPolicy(threshold=0.5, consecutive=1))
    assert all(f is None for f in feed(tracker, [0.99] * 5, moving=True))
    assert tracker.update(result(9, 0.99, assessable=False)) is None
    assert tracker.flags == []


def test_policy_rejects_nonsense_and_round_trips():
    with pytest.raises(ValueError, match="threshold"):
        FlagPolicy(threshold=1.5)
    with pytest.raises(ValueError, match="consecutive"):
        FlagPolicy(consecutive=0)
    for release in (-0.1, 1.1):
        with pytest.raises(ValueError, match=f"release must be within 0..1, got {release}"):
            FlagPolicy(release=release)
    policy = FlagPolicy(threshold=0.4, consecutive=5, release=0.05, require_still=False)
    assert FlagPolicy.from_dict({**policy.to_dict(), "unknown": 1}) == policy


def test_without_require_still_moving_frames_count():
    tracker = FlagTracker(FlagPolicy(threshold=0.5, consecutive=2, require_still=False))
    assert feed(tracker, [0.9, 0.9], moving=True)[-1] is not None
