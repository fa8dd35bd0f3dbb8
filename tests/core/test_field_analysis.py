"""One field's analysis, the same live and in batch: mask, motion and gate on real frames."""

import numpy as np
from trust_helpers import as_frame, demo_field

from allscope.core.field_analysis import FieldAnalyzer
from allscope.core.motion import STILL
from allscope.core.quality import STAGE_MOVING


def test_an_independent_field_is_still_and_gets_the_gate_verdict_and_step_timings():
    image, _ = demo_field()
    analysis = FieldAnalyzer(stream=False)(as_frame(image))
    assert analysis.motion == STILL and analysis.result.assessable
    assert analysis.result.wbc_count == analysis.mask.wbc_count > 0
    assert set(analysis.result.timings_ms) == {"normalize", "mask", "gate"}


def test_in_a_stream_a_shifted_view_is_measured_once_and_rejected_as_moving():
    wide, _ = demo_field(700, 360)
    analyze = FieldAnalyzer()
    analyze(as_frame(np.ascontiguousarray(wide[:, :640])))
    second = analyze(as_frame(np.ascontiguousarray(wide[:, 30:670])))
    assert second.motion.moving and second.result.moving
    assert STAGE_MOVING in second.result.reasons
    assert abs(second.motion.shift - 30 / 640) < 0.005


def test_the_normaliser_runs_before_the_mask():
    image, _ = demo_field()
    seen = []

    def normalizer(bgr):
        seen.append(bgr.shape)
        return np.zeros_like(bgr)

    analysis = FieldAnalyzer(normalizer=normalizer, stream=False)(as_frame(image))
    assert seen == [image.shape] and analysis.mask.wbc_count == 0
    assert not analysis.frame.image.any()
