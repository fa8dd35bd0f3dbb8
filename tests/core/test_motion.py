"""The one motion measure on demo-slide views: still with fresh noise, slowly panned, replaced."""

import numpy as np
import pytest

from allscope.core.motion import STILL, MotionDetector
from allscope.core.sources.demo.slide import render_field


@pytest.fixture(scope="module")
def wide():
    return render_field(1000, 360, seed=2, n_wbc=4)[0]


def view(wide, x, noise_seed):
    rng = np.random.default_rng(noise_seed)
    return np.clip(wide[:, x : x + 640] + rng.normal(0, 3, (360, 640, 3)), 0, 255).astype(np.uint8)


def test_still_view_with_fresh_sensor_noise_is_not_moving(wide):
    detector = MotionDetector()
    verdicts = [detector(view(wide, 0, seed)).moving for seed in range(4)]
    assert verdicts == [False] * 4 and detector.last.shift < 0.003 and detector.last.change < 2.0


def test_slow_pan_is_moving(wide):
    detector = MotionDetector()
    detector(view(wide, 0, 1))
    assert detector(view(wide, 13, 2)).moving is True  # 13 px of 640 = 2 % per frame
    assert detector.last.shift == pytest.approx(13 / 640, abs=0.004)


def test_a_different_view_is_moving(wide):
    detector = MotionDetector()
    detector(view(wide, 0, 1))
    motion = detector(view(wide, 340, 2))
    assert motion.moving is True and motion.change > detector.threshold
    assert motion.match is not None and motion.match < 0.5  # another view: a weak peak


def test_reset_forgets_the_previous_view(wide):
    detector = MotionDetector()
    detector(view(wide, 0, 1))
    detector.reset()
    assert detector(view(wide, 340, 2)) == STILL


def test_same_view_holds_across_colour_normalisation_and_fails_once_the_stage_moved():
    """The display draws an analysed frame's outlines on a newer frame only when it shows the
    same view: the raw and the colour-normalised demo field are the same view, a view shifted
    by 3% of its width is not."""
    import itertools

    from allscope.app.normalizer_switch import normalizer_for
    from allscope.core.motion import same_view, thumbnail
    from allscope.core.sources.demo.source import DemoSlideSource

    source = DemoSlideSource(640, 360, paced=False, defocus=False)
    first = next(itertools.islice(source.frames(), 5, 6)).image
    normalised = normalizer_for(None, "demo")(first)
    assert not np.array_equal(first, normalised)
    assert same_view(thumbnail(first), thumbnail(normalised))
    shifted = np.roll(first, 20, axis=1)  # 20 px of 640
    assert not same_view(thumbnail(first), thumbnail(shifted))
