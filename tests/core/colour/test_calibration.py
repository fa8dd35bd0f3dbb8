"""Colour calibration: white reference, normalisation round trip, drift, persistence."""

import json

import numpy as np
import pytest

from allscope.core.colour.calibration import (
    DRIFT_WARN,
    CalibrationError,
    ColourNormalizer,
    load_white_reference,
    white_reference,
)
from allscope.core.colour.target import (
    COLOUR_TARGET_PATH,
    ColourTarget,
    load_colour_target,
    target_from_fields,
    to_lab,
)
from allscope.core.sources.demo.slide import Illumination, Stain, render_field

WARM_CAST = (0.85, 1.0, 1.15)  # B, G, R gains of a warm lamp with an uncorrected camera
STATED_DE = 3.0  # the round trip must bring a cast field within this mean ΔE*ab of the original


def mean_delta_e(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(to_lab(a) - to_lab(b), axis=2).mean())


def lamp(gains=(1.0, 1.0, 1.0)) -> Illumination:
    return Illumination(gains=gains, vignette=0.1, brightness=0.85)


def blank_area(gains=(1.0, 1.0, 1.0), seed=0) -> np.ndarray:
    """An empty, lit slide: background colour under a lamp, with vignetting and sensor noise."""
    glass = np.exp(-Stain().background) * 255.0  # the demo slide's bare smear, BGR
    lit = lamp(gains).map(640, 360) * glass.astype(np.float32)
    noise = np.random.default_rng(seed).normal(0, 2, lit.shape)
    return np.clip(lit + noise + 0.5, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def clean_field():
    return render_field(640, 360, seed=3, illumination=Illumination())[0]


@pytest.fixture(scope="module")
def demo_target(clean_field):
    return target_from_fields({"demo": [clean_field]}, "demo slide")


@pytest.mark.parametrize("mode", ["white", "reinhard"])
def test_colour_cast_demo_field_is_corrected_to_within_stated_delta_e(
    mode, clean_field, demo_target
):
    cast = render_field(640, 360, seed=3, illumination=Illumination(), gains=WARM_CAST)[0]
    assert mean_delta_e(cast, clean_field) > 15.0
    corrected = ColourNormalizer(demo_target, mode=mode)(cast)
    assert mean_delta_e(corrected, clean_field) < STATED_DE


def test_white_reference_corrects_a_lamp_cast_without_looking_at_the_specimen():
    clean = render_field(640, 360, seed=3, stain=Stain(), illumination=Illumination())[0]
    white = white_reference(blank_area(WARM_CAST), camera="test camera")  # same slide, same lamp
    cast = render_field(640, 360, seed=3, stain=Stain(), illumination=lamp(WARM_CAST))[0]
    target = target_from_fields({"demo": [clean]}, "demo slide")
    corrected = ColourNormalizer(target, white=white, mode="white")(cast)
    assert mean_delta_e(cast, clean) > 15.0 and mean_delta_e(corrected, clean) < STATED_DE


def test_white_reference_round_trips_through_its_json_file(tmp_path):
    white = white_reference(blank_area(), camera="USB Camera #2 (046d:0825)")
    path = white.save(tmp_path)
    assert json.loads(path.read_text())["camera"] == "USB Camera #2 (046d:0825)"
    assert load_white_reference(tmp_path, "USB Camera #2 (046d:0825)") == white
    assert load_white_reference(tmp_path, "another camera") is None


def test_calibrating_on_a_field_full_of_cells_is_refused(clean_field):
    with pytest.raises(CalibrationError, match="not blank"):
        white_reference(clean_field, camera="c")


def test_damaged_reference_file_says_to_calibrate_again(tmp_path):
    white_reference(blank_area(), camera="c").save(tmp_path).write_text("{broken")
    with pytest.raises(CalibrationError, match="calibrate on a blank area again"):
        load_white_reference(tmp_path, "c")


def test_drift_stays_low_under_the_calibrated_lamp_and_warns_when_it_changes(demo_target):
    white = white_reference(blank_area(), camera="c")
    same = ColourNormalizer(demo_target, white=white)
    same(render_field(640, 360, seed=4, illumination=lamp())[0])
    changed = ColourNormalizer(demo_target, white=white)
    changed(render_field(640, 360, seed=4, illumination=lamp(WARM_CAST))[0])
    assert same.drift < DRIFT_WARN < changed.drift


def test_empty_field_is_normalised_by_background_gains_alone(demo_target):
    out = ColourNormalizer(demo_target, mode="reinhard")(blank_area(WARM_CAST))
    target_background = np.asarray(demo_target.background.mean)
    assert np.linalg.norm(to_lab(out).reshape(-1, 3).mean(0) - target_background) < STATED_DE


def test_normaliser_rejects_unknown_mode():
    with pytest.raises(ValueError, match="reinhard"):
        ColourNormalizer(ColourTarget.from_dict(load_colour_target().to_dict()), mode="gamma")


def test_shipped_target_is_near_white_background_and_purple_cells():
    target = load_colour_target(COLOUR_TARGET_PATH)
    assert target.fields > 2000 and target.background.mean[0] > 90
    assert target.cells.mean[0] < target.background.mean[0] and target.cells.mean[2] < -10


def test_default_normalisation_keeps_every_demo_white_cell_in_the_mask():
    from allscope.core.mask.lab_kmeans import lab_kmeans_mask
    for seed in range(3):
        image, _, cells = render_field(640, 360, seed=seed, n_wbc=3)
        centroids = [c.centroid for c in lab_kmeans_mask(ColourNormalizer()(image)).candidates]
        for cell in cells:
            x, y, w, h = cell.bbox
            assert any(x <= cx <= x + w and y <= cy <= y + h for cx, cy in centroids), (
                seed,
                cell.kind,
            )


@pytest.mark.parametrize(
    "blank", [lambda: blank_area() // 4, lambda: np.full((360, 640, 3), 254, np.uint8)],
    ids=["too-dark", "clipped-white"],
)
def test_a_blank_area_too_dark_or_clipped_white_is_refused(blank):
    with pytest.raises(CalibrationError, match="too dark or clipped white: adjust the lamp"):
        white_reference(blank(), camera="c")


@pytest.mark.parametrize(
    "image", [np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.float32)], ids=["grey", "float"]
)
def test_calibration_takes_only_8_bit_bgr(image):
    with pytest.raises(ValueError, match="expected a uint8 BGR image"):
        white_reference(image, camera="c")


def test_a_strength_outside_0_to_1_is_refused(demo_target):
    with pytest.raises(ValueError, match="strength must be within 0..1, got 1.5"):
        ColourNormalizer(demo_target, strength=1.5)


def test_a_reset_normaliser_fits_again_from_the_next_frame(demo_target):
    normaliser = ColourNormalizer(demo_target, white=white_reference(blank_area(), camera="c"))
    normaliser(render_field(640, 360, seed=4, illumination=lamp(WARM_CAST))[0])
    assert normaliser.matrix is not None and normaliser.drift is not None
    normaliser.reset()
    assert normaliser.matrix is None and normaliser.drift is None
