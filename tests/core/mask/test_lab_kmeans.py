"""Specification of the LAB K-means WBC mask (no optional libraries needed)."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from allscope.bench.synthetic import synthetic_field
from allscope.core.mask.cleanup import clean_mask
from allscope.core.mask.kmeans1d import kmeans_1d_histogram
from allscope.core.mask.lab_kmeans import LiveMasker, a_channel, lab_kmeans_mask, scaled_area


def brute_force_inertia(values: np.ndarray, weights: np.ndarray, k: int) -> float:
    """Best inertia over every split of the sorted values into k contiguous groups."""
    best = np.inf
    for cuts in itertools.combinations(range(1, values.size), k - 1):
        total = 0.0
        for group in np.split(np.arange(values.size), cuts):
            mean = np.average(values[group], weights=weights[group])
            total += float(np.sum(weights[group] * (values[group] - mean) ** 2))
        best = min(best, total)
    return best


def test_kmeans_cold_start_reaches_the_global_optimum():
    rng = np.random.default_rng(3)
    for _ in range(10):
        hist = np.zeros(256)
        values = rng.choice(256, size=9, replace=False)
        hist[values] = rng.integers(1, 500, size=9)
        centers, inertia = kmeans_1d_histogram(hist, 4)
        nonzero = np.flatnonzero(hist)
        best = brute_force_inertia(nonzero.astype(float), hist[nonzero], 4)
        assert inertia == pytest.approx(best, rel=1e-9)
        assert np.all(np.diff(centers) > 0)


def test_kmeans_with_few_distinct_values_makes_each_value_a_cluster():
    hist = np.zeros(256)
    hist[[40, 130, 200]] = [5, 7, 9]
    centers, inertia = kmeans_1d_histogram(hist, 7)
    assert centers.tolist() == [40.0, 130.0, 200.0]
    assert inertia == 0.0


def test_kmeans_warm_start_from_the_optimum_stays_there():
    hist = np.bincount(a_channel(synthetic_field(224, 224, seed=1)).ravel(), minlength=256)
    centers, inertia = kmeans_1d_histogram(hist, 7)
    warm_centers, warm_inertia = kmeans_1d_histogram(hist, 7, centers + 0.4)
    np.testing.assert_allclose(warm_centers, centers)
    assert warm_inertia == pytest.approx(inertia)


def test_kmeans_warm_start_with_wrong_number_of_centres_falls_back_to_the_optimum():
    hist = np.bincount(a_channel(synthetic_field(224, 224, seed=2)).ravel(), minlength=256)
    cold = kmeans_1d_histogram(hist, 7)
    warm = kmeans_1d_histogram(hist, 7, np.array([100.0, 150.0]))
    np.testing.assert_array_equal(warm[0], cold[0])


def test_kmeans_warm_start_whose_cluster_empties_falls_back_to_the_optimum():
    hist = np.zeros(256)
    hist[[10, 11, 12, 200, 201]] = [4, 5, 6, 7, 8]
    cold = kmeans_1d_histogram(hist, 3)
    # two starting centres far above every value: one cluster is empty from the start
    warm = kmeans_1d_histogram(hist, 3, np.array([11.0, 250.0, 255.0]))
    np.testing.assert_array_equal(warm[0], cold[0])
    assert warm[1] == cold[1]


def test_kmeans_warm_start_that_converges_elsewhere_keeps_its_own_fixed_point():
    """Lloyd from given centres may stop in another basin than the optimum: the live stream
    keeps that basin (frame-to-frame stability) instead of jumping to the optimum."""
    hist = np.zeros(256)
    hist[[0, 1, 2, 100, 101, 102, 250]] = [50, 50, 50, 50, 50, 50, 1]
    cold_centers, cold_inertia = kmeans_1d_histogram(hist, 3)
    assert cold_centers.tolist() == [1.0, 101.0, 250.0] and cold_inertia == 200.0
    warm_centers, _ = kmeans_1d_histogram(hist, 3, np.array([0.0, 1.5, 101.0]))
    # {0}, {1, 2}, {100, 101, 102, 250}: already a fixed point of Lloyd's iteration
    np.testing.assert_allclose(warm_centers, [0.0, 1.5, (50 * 303 + 250) / 151])


@pytest.mark.parametrize(
    ("hist", "k", "message"),
    [(np.ones(4), 0, "k must be at least 1, got 0"),
     (np.array([]), 2, "non-empty array"),
     (np.array([1.0, np.nan, 2.0]), 2, "finite")],
    ids=["k-zero", "empty", "nan"],
)
def test_kmeans_rejects_a_bad_k_or_histogram(hist, k, message):
    with pytest.raises(ValueError, match=message):
        kmeans_1d_histogram(hist, k)


def test_kmeans_rejects_negative_counts():
    with pytest.raises(ValueError, match="non-negative"):
        kmeans_1d_histogram(np.array([1.0, -2.0, 3.0]), 2)


@pytest.mark.parametrize("size", [(224, 224), (640, 480)])
def test_mask_finds_each_synthetic_white_cell_once(size):
    field = synthetic_field(*size, seed=5, wbcs=3)
    result = lab_kmeans_mask(field)
    assert result.wbc_count == 3
    # every candidate is purple nucleus: its mean a-value is far above the background's
    a = a_channel(field)
    for candidate in result.candidates:
        x, y, w, h = candidate.bbox
        box_mask = result.mask[y : y + h, x : x + w] > 0
        assert a[y : y + h, x : x + w][box_mask].mean() > 160


def test_masked_field_keeps_mask_pixels_and_zeroes_the_rest():
    field = synthetic_field(224, 224, seed=6)
    result = lab_kmeans_mask(field)
    inside = result.mask > 0
    assert set(np.unique(result.mask)) == {0, 255}
    np.testing.assert_array_equal(result.masked[inside], field[inside])
    assert not result.masked[~inside].any()


def test_candidates_are_the_8_connected_components_of_the_mask():
    result = lab_kmeans_mask(synthetic_field(640, 480, seed=7))
    n, _, stats, centroids = cv2.connectedComponentsWithStats(result.mask, connectivity=8)
    expected = sorted((int(s[4]), tuple(int(v) for v in s[:4])) for s in stats[1:])
    got = sorted((c.area, c.bbox) for c in result.candidates)
    assert got == expected and len(got) == n - 1
    for candidate in result.candidates:
        match = np.flatnonzero(stats[1:, 4] == candidate.area)
        assert np.min(np.abs(centroids[1:][match] - candidate.centroid).sum(axis=1)) < 1e-9


def disc_mask(size: int, radius: int, center: tuple[int, int]) -> np.ndarray:
    mask = np.zeros((size, size), np.uint8)
    cv2.circle(mask, center, radius, 255, -1)
    return mask


def test_minimum_areas_scale_with_the_frame_size():
    assert scaled_area(200, (224, 224)) == 200
    assert scaled_area(200, (448, 448)) == 800
    assert scaled_area(250, (1080, 1920)) == 10332


def test_objects_smaller_than_the_minimum_are_removed_and_larger_kept():
    small = disc_mask(100, 7, (30, 30))  # 149 px
    large = disc_mask(100, 9, (70, 70))  # 253 px
    cleaned, parts = clean_mask(small | large, 200, 250)
    assert parts.stats[:, 4].tolist() == [int(np.count_nonzero(large))]
    assert not cleaned[30, 30] and cleaned[70, 70]


def test_holes_are_filled_whatever_their_size():
    ring = disc_mask(120, 50, (60, 60))
    cv2.circle(ring, (60, 60), 40, 0, -1)  # a 5000 px hole
    cleaned, _ = clean_mask(ring, 200, 250)
    assert cleaned[60, 60] == 255


def test_small_border_pockets_are_filled_and_large_ones_kept():
    mask = np.zeros((100, 100), np.uint8)
    mask[0:30, 10:60] = 255
    mask[0:10, 20:30] = 0  # 100 px pocket open to the top border only
    mask[0:25, 35:55] = 0  # 500 px pocket
    cleaned, _ = clean_mask(mask, 200, 250)
    assert cleaned[5, 25] == 255
    assert cleaned[5, 45] == 0


def test_clean_up_components_describe_the_cleaned_mask():
    rng = np.random.default_rng(11)
    for _ in range(25):
        height, width = (int(v) for v in rng.integers(30, 260, size=2))
        mask = np.zeros((height, width), np.uint8)
        for _ in range(int(rng.integers(3, 25))):
            center = (int(rng.integers(-5, width + 5)), int(rng.integers(-5, height + 5)))
            cv2.circle(mask, center, int(rng.integers(2, 35)), 255, int(rng.choice([-1, 1, 2])))
        mask |= ((rng.random(mask.shape) < 0.04) * 255).astype(np.uint8)
        min_object, min_hole = (int(v) for v in rng.integers(5, 300, size=2))
        cleaned, parts = clean_mask(mask, min_object, min_hole)
        _, _, stats, centroids = cv2.connectedComponentsWithStats(cleaned, connectivity=8)
        order = np.lexsort(stats[1:, :2].T[::-1])
        mine = np.lexsort(parts.stats[:, :2].T[::-1])
        np.testing.assert_array_equal(parts.stats[mine], stats[1:][order])
        np.testing.assert_allclose(parts.centroids[mine], centroids[1:][order], atol=1e-9)


def test_uniform_field_gives_an_empty_mask():
    for colour in [(200, 180, 230), (120, 40, 160), (128, 128, 128)]:
        field = np.empty((224, 224, 3), np.uint8)
        field[:] = colour
        result = lab_kmeans_mask(field)
        assert result.wbc_count == 0 and not result.mask.any() and not result.masked.any()
        assert result.centers.size == 1


def test_two_valued_field_masks_the_redder_part():
    field = np.empty((224, 224, 3), np.uint8)
    field[:] = (222, 215, 230)
    field[50:120, 60:140] = (150, 45, 110)
    result = lab_kmeans_mask(field)
    assert result.wbc_count == 1
    assert result.candidates[0].bbox == (60, 50, 80, 70)


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((32, 32), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((32, 32, 4), np.uint8), r"\(H, W, 3\)"),
        (np.zeros((32, 32, 3), np.uint16), "uint8"), (np.zeros((32, 32, 3), np.float32), "uint8"),
        (np.zeros((0, 32, 3), np.uint8), "empty"), ([[1, 2, 3]], "numpy"),
    ],
)
def test_bad_input_raises_a_specific_value_error(image, message):
    with pytest.raises(ValueError, match=message):
        lab_kmeans_mask(image)


def drifting_frames(count: int) -> list[np.ndarray]:
    """A still field under slowly changing illumination and fresh sensor noise."""
    base = synthetic_field(640, 480, seed=9).astype(np.float32)
    rng = np.random.default_rng(1)
    frames = []
    for i in range(count):
        frame = base * (1.0 + 0.004 * i) + rng.normal(0, 1.5, base.shape)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


def test_live_masker_gives_the_cold_start_masks_on_similar_frames():
    masker = LiveMasker()
    for frame in drifting_frames(6):
        live, cold = masker(frame), lab_kmeans_mask(frame)
        np.testing.assert_array_equal(live.mask, cold.mask)
        np.testing.assert_allclose(live.centers, cold.centers, atol=1e-9)


def test_live_masker_carries_the_centres_to_the_next_frame_and_reset_forgets_them():
    masker = LiveMasker(k=7)
    assert masker.centers is None
    first, second = drifting_frames(2)
    result = masker(first)
    np.testing.assert_array_equal(masker.centers, result.centers)
    hist = np.bincount(a_channel(second).ravel(), minlength=256)
    expected, _ = kmeans_1d_histogram(hist, 7, result.centers)
    np.testing.assert_array_equal(masker(second).centers, expected)
    masker.reset()
    assert masker.centers is None


def test_live_masker_passes_its_settings_on():
    field = synthetic_field(224, 224, seed=4)
    assert LiveMasker(threshold=250.0)(field).wbc_count == 0


def test_live_masker_recovers_after_a_uniform_frame():
    masker = LiveMasker()
    blank = np.full((224, 224, 3), 200, np.uint8)
    assert masker(blank).wbc_count == 0
    assert masker.centers is None  # one value is no basis for a warm start
    field = synthetic_field(224, 224, seed=3)
    np.testing.assert_array_equal(masker(field).mask, lab_kmeans_mask(field).mask)
