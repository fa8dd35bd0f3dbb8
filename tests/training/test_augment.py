"""Scale-bar covering and the evaluation perturbations."""

from __future__ import annotations

import numpy as np

from allscope.training.augment import (
    AugmentConfig,
    augment,
    blank_corner,
    camera_shift,
    cover_scale_bar,
    scale_bar_box,
)

RED = np.array([0, 0, 255], np.uint8)  # BGR


def _field_with_bar(seed: int = 0) -> np.ndarray:
    """A grey noisy field with a pure red 'scale bar' where the real ones sit (bottom-right)."""
    rng = np.random.default_rng(seed)
    field = rng.integers(120, 200, (224, 224, 3), dtype=np.uint8)
    field[-31:-20, -36:-4] = RED  # the extent of the largest bar seen in the data
    return field


def _reddish(image: np.ndarray) -> int:
    b, g, r = (image[..., i].astype(int) for i in range(3))
    return int(((r > 200) & (g < 80) & (b < 80)).sum())


def test_cover_always_hides_the_scale_bar():
    for seed in range(50):
        covered = cover_scale_bar(_field_with_bar(seed), np.random.default_rng(seed))
        assert _reddish(covered) == 0


def test_cover_leaves_the_rest_of_the_field_alone():
    field = _field_with_bar()
    covered = cover_scale_bar(field, np.random.default_rng(0))
    x0, y0, _, _ = scale_bar_box(field.shape)
    assert np.array_equal(covered[: y0 - 224 // 8], field[: y0 - 224 // 8])


def test_training_views_never_show_the_bar_even_after_flips_and_rotations():
    cfg = AugmentConfig(colour=0.0, grayscale_p=0.0, blur_p=0.0, jpeg_p=0.0)
    for seed in range(40):
        view = augment(_field_with_bar(seed), np.random.default_rng(seed), cfg)
        assert view.shape == (224, 224, 3) and view.dtype == np.uint8
        assert _reddish(view) == 0


def test_blank_corner_fills_only_the_corner_box():
    field = _field_with_bar()
    blanked = blank_corner(field)
    x0, y0, x1, y1 = scale_bar_box(field.shape)
    changed = np.argwhere((blanked != field).any(axis=2))
    assert _reddish(blanked) == 0
    assert changed[:, 0].min() >= y0 and changed[:, 1].min() >= x0


def test_camera_shifts_change_colour_by_a_realistic_amount():
    field = _field_with_bar()
    for variant in range(3):
        shifted = camera_shift(field, variant)
        mean_change = np.abs(shifted.astype(float) - field.astype(float)).mean()
        assert 3 < mean_change < 40


def test_masked_training_view_is_black_outside_the_mask():
    field = _field_with_bar()
    mask = np.zeros((224, 224), np.uint8)
    mask[60:120, 60:120] = 255
    view = augment(field, np.random.default_rng(0), AugmentConfig(scale=(1.0, 1.0)), mask)
    assert (view.reshape(-1, 3).max(axis=1) == 0).mean() > 0.85
