"""Microscope scale: µm per pixel from a micrometer or typed, and the scale bar's length."""

import pytest

from allscope.app.scale import from_micrometer, parse_scale, scale_bar


def test_micrometer_and_typed_values():
    assert from_micrometer(100.0, 800.0) == pytest.approx(0.125)
    assert parse_scale("0,1 µm") == pytest.approx(0.1)
    with pytest.raises(ValueError, match="not a number"):
        parse_scale("fast")
    with pytest.raises(ValueError, match="outside"):
        parse_scale("500")


def test_scale_bar_picks_a_round_length_near_the_target():
    bar = scale_bar(0.1, zoom=1.0)  # 0.1 µm per screen pixel: 120 px = 12 µm -> 10 µm is closest
    assert bar.microns == 10 and bar.pixels == pytest.approx(100.0) and bar.label == "10 µm"
    zoomed = scale_bar(0.1, zoom=4.0)  # 4 screen px per image px: 120 px = 3 µm
    assert zoomed.microns == 2 and zoomed.pixels == pytest.approx(80.0)
    assert scale_bar(None, 1.0) is None


@pytest.mark.parametrize(("known", "measured"), [(0.0, 800.0), (100.0, 0.0), (-5.0, 10.0)])
def test_a_micrometer_reading_at_or_below_zero_is_refused(known, measured):
    with pytest.raises(ValueError, match="must be above zero"):
        from_micrometer(known, measured)


def test_no_bar_without_a_usable_scale_or_zoom():
    assert scale_bar(0.0, 1.0) is None
    assert scale_bar(-0.1, 1.0) is None
    assert scale_bar(0.1, 0.0) is None
