"""The quality gate, each check on a synthetic demo-slide frame built to fail it."""

import numpy as np
import pytest
from trust_helpers import as_frame, demo_field

from allscope.core.motion import STILL, Motion, MotionDetector
from allscope.core.quality import (
    NO_CELLS,
    OUT_OF_FOCUS,
    OVER_EXPOSED,
    STAGE_MOVING,
    UNDER_EXPOSED,
    QualityGate,
    QualitySettings,
)


def judge(image, mask, motion=STILL, gate=None):
    return (gate or QualityGate())(as_frame(image), mask, motion)


def test_sharp_well_lit_field_with_cells_is_assessable():
    image, mask = demo_field()
    assert judge(image, mask) == (True, ())


def test_blurred_field_is_out_of_focus_and_nothing_else():
    image, mask = demo_field(blur=6.0)
    assert judge(image, mask) == (False, (OUT_OF_FOCUS,))


def test_focus_score_does_not_depend_on_resolution():
    small = QualityGate().measure(*demo_field(640, 360, blur=2.0)).sharpness
    large = QualityGate().measure(*demo_field(1280, 720, blur=4.0)).sharpness
    assert small == pytest.approx(large, abs=0.05)


def test_field_without_white_cells_is_not_assessable():
    image, mask = demo_field(n_wbc=0)
    assert judge(image, mask) == (False, (NO_CELLS,))


def test_saturated_field_is_over_exposed():
    image, mask = demo_field(gains=(1.6, 1.6, 1.6))
    ok, reasons = judge(image, mask)
    assert not ok and OVER_EXPOSED in reasons


def test_dark_field_is_under_exposed():
    image, mask = demo_field(gains=(0.3, 0.3, 0.3))
    ok, reasons = judge(image, mask)
    assert not ok and UNDER_EXPOSED in reasons


def test_shifted_view_means_the_stage_is_moving():
    wide, mask = demo_field(700, 360)
    gate, motion = QualityGate(), MotionDetector()
    first = np.ascontiguousarray(wide[:, :640])
    second = np.ascontiguousarray(wide[:, 30:670])  # 30 px of 640 = 4.7 % per frame
    judge(first, mask, motion(first), gate=gate)
    ok, reasons = judge(second, mask, motion(second), gate=gate)
    assert reasons == (STAGE_MOVING,) and gate.last.shift == pytest.approx(30 / 640, abs=0.005)


def test_still_view_with_fresh_sensor_noise_is_not_moving():
    image, mask = demo_field()
    rng = np.random.default_rng(0)
    gate, motion = QualityGate(), MotionDetector()
    for _ in range(4):
        noisy = np.clip(image + rng.normal(0, 3, image.shape), 0, 255).astype(np.uint8)
        ok, reasons = judge(noisy, mask, motion(noisy), gate=gate)
    assert ok and gate.last.shift < 0.002


def test_moving_flag_rejects_only_when_asked():
    image, mask = demo_field()
    assert judge(image, mask, Motion(moving=True)) == (True, ())
    strict = QualityGate(QualitySettings(reject_moving=True))
    assert judge(image, mask, Motion(moving=True), gate=strict) == (False, (STAGE_MOVING,))


def test_settings_round_trip_and_ignore_unknown_keys():
    settings = QualitySettings(min_sharpness=0.2, max_shift=0.05)
    assert QualitySettings.from_dict({**settings.to_dict(), "from_the_future": 1}) == settings


def test_settings_reject_out_of_range_values_by_name():
    with pytest.raises(ValueError, match="max_highlights"):
        QualitySettings(max_highlights=1.5)


def test_gate_rejects_a_grey_image_with_a_clear_message():
    _, mask = demo_field()
    with pytest.raises(ValueError, match="uint8 BGR"):
        QualityGate().measure(np.zeros((360, 640), np.uint8), mask)


def test_a_flat_field_has_no_sharpness_and_a_region_limits_the_measure():
    from allscope.core.quality import sharpness

    flat = np.full((64, 64), 128, np.uint8)
    assert sharpness(flat, None, sigma=1.5) == 0.0  # no gradient at all: nothing to lose
    edge = flat.copy()
    edge[:, 32:] = 200
    region = np.zeros_like(edge)
    region[:, 24:40] = 255
    whole, inside = sharpness(edge, None, 1.5), sharpness(edge, region, 1.5)
    assert 0.0 < whole <= 1.0 and inside == pytest.approx(whole, abs=0.05)
    region[:, 24:40], region[:, :12] = 0, 255  # a region away from the edge: flat inside
    assert sharpness(edge, region, 1.5) == 0.0


def test_a_reset_gate_forgets_its_last_measures():
    image, mask = demo_field()
    gate = QualityGate()
    judge(image, mask, gate=gate)
    assert gate.last is not None
    gate.reset()
    assert gate.last is None
