"""The procedural smear: truth masks, the LAB a-channel property the paper's mask relies on,
camera faults for quality tests, and the demo source's scan."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from allscope.core.sources import DemoSlideSource
from allscope.core.sources.demo.slide import render_field

A_THRESHOLD = 141  # the paper's threshold on OpenCV's 8-bit LAB a-channel


def a_channel(bgr):
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2LAB)[..., 1]


def test_field_shape_and_binary_truth_mask():
    bgr, mask, wbcs = render_field(200, 150, seed=1, n_wbc=2)
    assert bgr.shape == (150, 200, 3) and bgr.dtype == np.uint8 and bgr.flags.c_contiguous
    assert mask.shape == (150, 200) and set(np.unique(mask)) == {0, 255}


def test_truth_mask_is_exactly_the_listed_white_cells():
    _, mask, wbcs = render_field(320, 240, seed=2, n_wbc=3)
    assert sum(c.area for c in wbcs) == np.count_nonzero(mask)
    n, labels = cv2.connectedComponents(mask)
    assert n - 1 == 3
    for cell in wbcs:
        x, y, w, h = cell.bbox
        assert np.count_nonzero(mask[y:y + h, x:x + w]) == cell.area


def test_kinds_cycle_in_the_order_given():
    _, _, wbcs = render_field(320, 240, seed=0, n_wbc=4, kinds=("blast", "lymphocyte"))
    assert [c.kind for c in wbcs] == ["blast", "lymphocyte", "blast", "lymphocyte"]


def test_same_seed_same_field_other_seed_other_field():
    a, _, _ = render_field(160, 120, seed=5, n_wbc=1)
    b, _, _ = render_field(160, 120, seed=5, n_wbc=1)
    c, _, _ = render_field(160, 120, seed=6, n_wbc=1)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


@pytest.mark.parametrize("seed", range(6))
def test_nuclei_lie_well_above_the_a_threshold(seed):
    bgr, nuclei, wbcs = render_field(224, 224, seed=seed, n_wbc=3, truth="nucleus")
    a = a_channel(bgr)
    for cell in wbcs:
        x, y, w, h = cell.bbox
        inside = a[y:y + h, x:x + w][nuclei[y:y + h, x:x + w] > 0]
        assert inside.mean() > A_THRESHOLD + 10, cell.kind


@pytest.mark.parametrize("seed", range(6))
def test_thresholding_a_at_141_finds_each_white_cell_and_nothing_else(seed):
    """The paper's rule in its simplest form: a > 141, objects under 200 px (scaled) dropped."""
    bgr, mask, wbcs = render_field(320, 240, seed=seed, n_wbc=3)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (a_channel(bgr) > A_THRESHOLD).astype(np.uint8)
    )
    min_area = 200 * 320 * 240 / (224 * 224)
    kept = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    assert len(kept) == 3
    assert all((mask[labels == i] > 0).mean() > 0.95 for i in kept)


def test_red_cells_and_background_stay_below_the_threshold():
    bgr, mask, _ = render_field(320, 240, seed=0, n_wbc=2)
    outside = a_channel(bgr)[mask == 0]
    assert np.median(outside) < A_THRESHOLD - 5
    assert (outside > A_THRESHOLD).mean() < 0.01  # platelets and red-cell overlap slivers only


def test_gains_shift_the_colour_balance():
    plain, _, _ = render_field(160, 120, seed=3, n_wbc=1, noise=0)
    warm, _, _ = render_field(160, 120, seed=3, n_wbc=1, noise=0, gains=(0.8, 1.0, 1.0))
    assert warm[..., 0].mean() < 0.85 * plain[..., 0].mean()
    assert warm[..., 2].mean() == pytest.approx(plain[..., 2].mean(), abs=0.5)


def test_cast_adds_a_colour_offset():
    plain, _, _ = render_field(160, 120, seed=3, n_wbc=1, noise=0)
    cast, _, _ = render_field(160, 120, seed=3, n_wbc=1, noise=0, cast=(0, 0, -30))
    assert plain[..., 2].mean() - cast[..., 2].mean() == pytest.approx(30, abs=2)


def test_blur_removes_fine_detail():
    sharp, _, _ = render_field(160, 120, seed=3, n_wbc=1, noise=0)
    blurred, _, _ = render_field(160, 120, seed=3, n_wbc=1, noise=0, blur=3.0)
    def detail(img):
        return cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
    assert detail(blurred) < 0.2 * detail(sharp)


def test_too_many_cells_for_the_field_is_a_clear_error():
    with pytest.raises(ValueError, match="cannot fit 5 white cells into a 64x64 field"):
        render_field(64, 64, n_wbc=5, px_per_um=6.0)


def test_unknown_kind_is_a_clear_error():
    with pytest.raises(ValueError, match=r"unknown white cell kind\(s\) \['monocyte'\]"):
        render_field(64, 64, n_wbc=1, kinds=("monocyte",))


def scan(source, n):
    frames = []
    for frame in source.frames():
        frames.append(frame)
        if len(frames) == n:
            break
    return frames


def test_demo_scan_dwells_moves_and_dwells_again():
    source = DemoSlideSource(160, 120, fps=30, paced=False, dwell_s=0.3, seed=1)
    frames = scan(source, 40)
    dwells = [f.meta["dwell_id"] for f in frames]
    assert dwells[0] == 0 and None in dwells and 1 in dwells
    moving = [f for f in frames if f.meta["moving"]]
    assert all(f.meta["defocus"] > 0 for f in moving[1:-1])
    assert all(f.meta["dwell_id"] is None for f in moving)


def test_demo_frames_carry_the_truth_of_the_view():
    source = DemoSlideSource(160, 120, paced=False, seed=1, blast_fraction=1.0)
    first = scan(source, 1)[0]
    assert first.meta["wbc_kinds"] and set(first.meta["wbc_kinds"]) == {"blast"}
    assert np.count_nonzero(first.truth_mask) > 0  # the first dwell is on a white cell


def test_blast_fraction_sets_the_mix_of_white_cells():
    assert {c.kind for c in DemoSlideSource(160, 120, seed=2, blast_fraction=1.0).wbcs} == {"blast"}
    assert "blast" not in {
        c.kind for c in DemoSlideSource(160, 120, seed=2, blast_fraction=0.0).wbcs
    }


def test_demo_is_reproducible_from_its_seed():
    a = scan(DemoSlideSource(160, 120, paced=False, seed=4), 3)[-1].image
    b = scan(DemoSlideSource(160, 120, paced=False, seed=4), 3)[-1].image
    assert np.array_equal(a, b)


@pytest.mark.parametrize("seed", range(3))
def test_the_paper_mask_finds_every_rendered_white_cell_and_nothing_else(seed):
    from allscope.core.mask.lab_kmeans import lab_kmeans_mask

    bgr, mask, wbcs = render_field(320, 240, seed=seed, n_wbc=3)
    result = lab_kmeans_mask(bgr)
    assert result.wbc_count == 3
    for cell in wbcs:
        x, y, w, h = cell.bbox
        truth = mask[y:y + h, x:x + w] > 0
        assert (result.mask[y:y + h, x:x + w][truth] > 0).mean() > 0.3, cell.kind


@pytest.mark.parametrize("fraction", [-0.1, 1.5])
def test_a_blast_fraction_outside_0_to_1_is_refused(fraction):
    with pytest.raises(ValueError, match="blast_fraction must be within \\[0, 1\\]"):
        DemoSlideSource(160, 120, paced=False, blast_fraction=fraction, n_wbc=2)


def test_without_noise_or_with_colour_gains_the_same_view_renders_alike():
    """No sensor noise: two scans of one seed give identical frames; colour gains tint the lamp
    (a red gain above the others makes every frame redder than without)."""

    def first_frames(**options):
        source = DemoSlideSource(160, 120, paced=False, seed=3, n_wbc=3, noise=0.0, **options)
        frames = []
        for frame in source.frames():
            frames.append(frame.image)
            if len(frames) == 3:
                break
        source.close()
        return frames

    plain, again = first_frames(), first_frames()
    assert all(np.array_equal(a, b) for a, b in zip(plain, again, strict=True))
    red = first_frames(gains=(0.6, 0.6, 1.0))  # BGR: red stronger than blue and green
    for p, r in zip(plain, red, strict=True):
        assert r[..., 2].mean() - r[..., 0].mean() > p[..., 2].mean() - p[..., 0].mean() + 10
