"""Parity of the mask with the reference pipeline (scikit-learn, scipy, scikit-image)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("sklearn", reason="the reference pipeline needs the test extra")
pytest.importorskip("scipy", reason="the reference pipeline needs the test extra")
pytest.importorskip("skimage", reason="the reference pipeline needs the test extra")

from scipy import ndimage
from skimage import morphology

from allscope.bench.synthetic import synthetic_field
from allscope.core.mask.cleanup import clean_mask
from allscope.core.mask.kmeans1d import cluster_bounds
from allscope.core.mask.lab_kmeans import (
    a_channel,
    foreground_cut,
    lab_kmeans_mask,
    scaled_area,
)
from allscope.evaluation import reference_mask as reference
from allscope.paths import shared_data_dir

SHARED_DATA = shared_data_dir()
ALL_FIELDS = SHARED_DATA / "all-fields"
BCCD_IMAGES = SHARED_DATA / "bccd" / "JPEGImages"


def same_partition(result, ref, a: np.ndarray) -> bool:
    """True when both clusterings split the a-values present into the same groups."""
    values = np.unique(a)
    ours = cluster_bounds(values.astype(float), result.centers)
    theirs = np.array([np.bincount(ref.labels[a == v]).argmax() for v in values])
    return np.array_equal(ours, theirs)


def iou(mask: np.ndarray, ref_mask: np.ndarray) -> float:
    union = np.count_nonzero((mask > 0) | ref_mask)
    return 1.0 if union == 0 else np.count_nonzero((mask > 0) & ref_mask) / union


def compare(fields: list[np.ndarray]) -> dict[str, float]:
    """Inertia against k-means++ restarts (asserted on every field), and mask IoU where the
    clusterings agree: the reference seeded with our centres, and unseeded where it
    reaches our clustering by itself."""
    ious, unseeded_same = [], 0
    for field in fields:
        result = lab_kmeans_mask(field)
        a = a_channel(field)
        unseeded = reference.reference_mask(field, n_init=3)
        assert result.inertia <= unseeded.inertia * (1 + 1e-6)
        if same_partition(result, unseeded, a):
            unseeded_same += 1
            ious.append(iou(result.mask, unseeded.mask))
        seeded = reference.reference_mask(field, init_centers=result.centers)
        assert result.inertia <= seeded.inertia * (1 + 1e-6)
        if same_partition(result, seeded, a):
            ious.append(iou(result.mask, seeded.mask))
    return {"fields": len(fields), "unseeded_same": unseeded_same, "compared": len(ious),
            "mean_iou": float(np.mean(ious)) if ious else float("nan")}  # fmt: skip


def test_synthetic_fields_match_the_reference_mask():
    fields = [synthetic_field(224, 224, seed=s) for s in range(5)]
    fields.append(synthetic_field(640, 480, seed=1))
    figures = compare(fields)
    print("synthetic:", figures)
    assert figures["compared"] >= figures["fields"]
    assert figures["mean_iou"] >= 0.99


def test_shared_b_all_fields_match_the_reference_mask():
    if not ALL_FIELDS.is_dir():
        pytest.skip(f"shared B-ALL fields not found at {ALL_FIELDS}")
    paths = sorted(ALL_FIELDS.glob("*/*.jpg"))[::137][:20]
    figures = compare([cv2.imread(str(path)) for path in paths])
    print("all-fields:", figures)
    assert figures["compared"] >= figures["fields"]
    assert figures["mean_iou"] >= 0.99


def reference_clean(mask: np.ndarray, min_object: int, min_hole: int) -> np.ndarray:
    filled = ndimage.binary_fill_holes(mask > 0)
    kept = reference._remove_small(morphology, filled, min_object, connectivity=2)
    return reference._fill_small_holes(morphology, kept, min_hole)


def test_clean_up_equals_scipy_and_scikit_image_on_random_masks():
    rng = np.random.default_rng(5)
    for _ in range(40):
        height, width = (int(v) for v in rng.integers(12, 220, size=2))
        mask = np.zeros((height, width), np.uint8)
        for _ in range(int(rng.integers(1, 20))):
            p1 = (int(rng.integers(-5, width + 5)), int(rng.integers(-5, height + 5)))
            p2 = (int(rng.integers(-5, width + 5)), int(rng.integers(-5, height + 5)))
            shape = rng.integers(0, 3)
            if shape == 0:
                cv2.line(mask, p1, p2, 255, int(rng.integers(1, 3)))
            elif shape == 1:
                cv2.rectangle(mask, p1, p2, 255, int(rng.choice([-1, 1, 2])))
            else:
                cv2.circle(mask, p1, int(rng.integers(1, 30)), 255, int(rng.choice([-1, 1])))
        mask |= ((rng.random(mask.shape) < 0.03) * 255).astype(np.uint8)
        min_object, min_hole = (int(v) for v in rng.integers(2, 300, size=2))
        expected = reference_clean(mask, min_object, min_hole)
        cleaned, parts = clean_mask(mask, min_object, min_hole)
        np.testing.assert_array_equal(cleaned > 0, expected)
        n = cv2.connectedComponents(expected.astype(np.uint8), connectivity=8)[0]
        assert parts.stats.shape[0] == n - 1


def test_reference_pipeline_names_the_test_extra_when_libraries_are_missing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(ImportError, match="install the test extra"):
        reference.reference_mask(synthetic_field(32, 32))


def test_crowded_mask_with_border_pockets_equals_the_reference():
    rng = np.random.default_rng(8)
    mask = np.zeros((200, 230), np.uint8)
    for row in range(10):
        for col in range(11):
            x, y = 3 + col * 21, 3 + row * 20
            corner = (x + int(rng.integers(4, 16)), y + int(rng.integers(4, 15)))
            cv2.rectangle(mask, (x, y), corner, 255, int(rng.choice([-1, 1])))
    mask[:, 0:2] = 255  # an object along the border, with pockets beside it
    expected = reference_clean(mask, 30, 40)
    assert np.count_nonzero(expected) > 0
    cleaned, parts = clean_mask(mask, 30, 40)
    np.testing.assert_array_equal(cleaned > 0, expected)
    n = cv2.connectedComponents(expected.astype(np.uint8), connectivity=8)[0]
    assert parts.stats.shape[0] == n - 1


def test_reference_benchmark_times_the_reference_on_a_field_of_each_size(monkeypatch):
    import allscope.evaluation.reference_mask as reference
    from allscope.bench.mask import benchmark_reference_mask

    calls = []
    real = reference.reference_mask

    def counting_reference(field, **kwargs):
        calls.append((field.shape, kwargs))
        return real(field, **kwargs)

    monkeypatch.setattr(reference, "reference_mask", counting_reference)
    timings = benchmark_reference_mask(sizes=((48, 32),), repeats=2)
    assert set(timings) == {"48x32"} and set(timings["48x32"]) == {"median_ms", "p95_ms"}
    assert timings["48x32"]["median_ms"] > 0
    assert calls == [((32, 48, 3), {"n_init": 1})] * 3  # a warm-up call and two timed calls


def test_clean_up_equals_the_reference_on_real_bccd_masks():
    if not BCCD_IMAGES.is_dir():
        pytest.skip(f"BCCD not found at {BCCD_IMAGES}")
    for path in sorted(BCCD_IMAGES.glob("*.jpg"))[::60]:
        for scale in (1.0, 2.0):  # 640x480 and 1280x960
            field = cv2.resize(cv2.imread(str(path)), None, fx=scale, fy=scale)
            cut = foreground_cut(lab_kmeans_mask(field).centers, 141.0)
            _, raw = cv2.threshold(a_channel(field), cut, 255, cv2.THRESH_BINARY)
            sizes = scaled_area(200, raw.shape), scaled_area(250, raw.shape)
            cleaned, _ = clean_mask(raw, *sizes)
            np.testing.assert_array_equal(cleaned > 0, reference_clean(raw, *sizes))
