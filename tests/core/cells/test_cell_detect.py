"""Cell detection: one record per white cell, touching cells split, at any frame size."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest
from cell_fields import NUCLEUS, PALE_CYTOPLASM, band_cell_field, discs_field, lobed_cell_field

from allscope.core.cells.detect import Cell, cell_mask, detect_cells
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.evaluation.bccd import bccd_recall

BCCD = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "bccd"


def centres_of(cells: list[Cell]) -> list[tuple[float, float]]:
    return sorted((round(c.centroid[0]), round(c.centroid[1])) for c in cells)


def test_two_touching_discs_become_two_cells():
    field = discs_field([(80, 100), (114, 100)], radius=20)  # centres 1.7 radii apart
    cells = detect_cells(field)
    assert len(lab_kmeans_mask(field).candidates) == 1  # the mask alone sees one object
    assert len(cells) == 2
    for (x, y), expected in zip(centres_of(cells), [(80, 100), (114, 100)], strict=True):
        assert abs(x - expected[0]) <= 3 and abs(y - expected[1]) <= 2


@pytest.mark.parametrize("zoom", [0.75, 2.0, 4.0])
def test_touching_discs_split_the_same_way_at_any_magnification(zoom):
    field = discs_field([(60, 100), (94, 100), (128, 100)], radius=20, zoom=zoom)
    cells = detect_cells(field)
    assert len(cells) == 3
    areas = [c.area_px / zoom**2 for c in cells]
    assert all(0.7 * math.pi * 400 < a < 1.1 * math.pi * 400 for a in areas), areas


@pytest.mark.parametrize("zoom", [0.75, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("lobes", [2, 3])
def test_a_lobed_nucleus_in_one_cytoplasm_is_one_cell(lobes, zoom):
    # a segmented neutrophil: round lobes joined by strands inside one pale cytoplasm;
    # the waists between the lobes would cut it into one "cell" per lobe
    field = lobed_cell_field(lobes, zoom)
    (cell,) = detect_cells(field)
    assert cell.centroid == pytest.approx((100 * zoom, 100 * zoom), abs=3 * zoom)


@pytest.mark.parametrize("lobes", [2, 3])
def test_the_same_lobes_on_bare_glass_are_cut_apart(lobes):
    # without a cytoplasm around them the lobes are small touching cells: the joining
    # follows the cytoplasm, not the shape of the nucleus
    assert len(detect_cells(lobed_cell_field(lobes, cytoplasm=False))) == lobes


@pytest.mark.parametrize("zoom", [0.75, 1.0, 2.0, 4.0])
def test_a_band_nucleus_is_one_cell_even_without_cytoplasm(zoom):
    # a band bent into a C, thinner at its middle: the distance markers cut it there, but
    # the outer end of that cut lies on the convex side of the bend, not in a notch
    field = band_cell_field(zoom)
    assert len(lab_kmeans_mask(field).candidates) == 1
    (cell,) = detect_cells(field)
    assert cell.centroid[0] == pytest.approx(100 * zoom, abs=2 * zoom)


@pytest.mark.parametrize(
    "centres",
    [
        [(80, 100), (114, 100), (114, 134)],  # an L: the cut at its corner
        [(70, 90), (104, 90), (136, 108), (160, 136)],  # a bent row
    ],
)
def test_touching_cells_in_a_bent_clump_stay_apart(centres):
    # every cut between touching round cells has a notch at each end, however the clump bends
    assert len(detect_cells(discs_field(centres, radius=20))) == len(centres)


def rimmed_discs(centres: list[tuple[float, float]], radius: float, rim: float,
                 zoom: float = 1.0) -> np.ndarray:
    """Touching round cells, each nucleus in its own thin rim of pale cytoplasm."""
    field = discs_field([], radius, zoom=zoom)
    for colour, r in ((PALE_CYTOPLASM, radius + rim), (NUCLEUS, radius)):
        for cx, cy in centres:
            centre = (int(round(cx * zoom)), int(round(cy * zoom)))
            cv2.circle(field, centre, int(round(r * zoom)), colour, -1, cv2.LINE_AA)
    return field


@pytest.mark.parametrize("zoom", [0.75, 2.0])
@pytest.mark.parametrize("rim", [3, 6])
def test_touching_cells_with_their_own_cytoplasm_stay_apart(rim, zoom):
    # blasts and lymphocytes have a scant rim (here up to 0.3 of the nucleus radius):
    # the glass beyond it at the waist keeps two and three touching cells apart
    assert len(detect_cells(rimmed_discs([(80, 100), (114, 100)], 20, rim, zoom))) == 2
    row = [(60, 100), (94, 100), (128, 100)]
    assert len(detect_cells(rimmed_discs(row, 20, rim, zoom))) == 3


def test_a_convex_cell_is_never_cut():
    field = discs_field([(100, 100)], radius=30)
    assert len(detect_cells(field)) == 1


def test_a_cell_record_describes_the_cell():
    field = discs_field([(100, 90)], radius=25)
    (cell,) = detect_cells(field)
    assert cell.index == 0 and not cell.touches_border
    assert cell.centroid == pytest.approx((100, 90), abs=1.0)
    assert cell.diameter_px == pytest.approx(50, rel=0.05)
    assert cell.area_px == pytest.approx(math.pi * 625, rel=0.08)
    x, y, w, h = cell.bbox
    assert (x, y, w, h) == pytest.approx((75, 65, 51, 51), abs=2)
    assert cell.contour.dtype == np.int32 and cell.contour.shape[1] == 2
    assert np.count_nonzero(cell_mask(cell, field.shape[:2])) == pytest.approx(
        cell.area_px, rel=0.05
    )


def test_a_cell_cut_by_the_frame_edge_is_marked():
    field = discs_field([(100, 100), (190, 60)], radius=22)
    cells = sorted(detect_cells(field), key=lambda c: c.centroid[0])
    assert [c.touches_border for c in cells] == [False, True]


def test_a_field_without_cells_gives_none():
    assert detect_cells(np.full((120, 160, 3), 200, np.uint8)) == []


def test_a_mask_of_another_field_is_refused():
    field = discs_field([(100, 100)], radius=20)
    with pytest.raises(ValueError, match="pass the MaskResult computed for this field"):
        detect_cells(field, lab_kmeans_mask(field[:100]))


def test_bccd_recall_and_precision_of_detected_cells():
    if not (BCCD / "Annotations").is_dir():
        pytest.skip(f"BCCD not found at {BCCD}")
    figures = bccd_recall(BCCD, lambda image: [c.centroid for c in detect_cells(image)])
    print("BCCD cells (364 fields, 372 WBC boxes):", figures)
    assert figures["fields"] == 364 and figures["wbc_boxes"] == 372
    assert figures["wbc_found"] >= 370
    # measured: 371/372 found, 1.19 cells per field outside every WBC box (1.38 before the
    # lobes of one cell were joined; the mask's
    # components alone: 2.75); most of those are platelet clumps and stained debris
    assert figures["outside_per_field"] <= 1.45
