"""Each white cell counted once: single-cell images from a third laboratory (PBC), on the
path ``allscope analyze`` takes with the shipped cell package."""

from __future__ import annotations

import pytest

from allscope.core.cells.classifier import CellClassifier
from allscope.evaluation.single_cells import analyze_locator, central_count, single_cell_counts
from allscope.paths import default_cell_model_dir, shared_data_dir

PBC = shared_data_dir() / "pbc-cells"

# A differential of 100 cells needs its count right within a few cells: at most 1 image
# in 20 may give other than exactly one detection for its centred cell.
REQUIRED_SINGLE = 0.95


def test_central_count_keeps_the_centred_cell_only():
    shape = (360, 360, 3)
    assert central_count([(180, 180), (200, 150)], shape) == 2
    assert central_count([(180, 180), (10, 10), (350, 180)], shape) == 1
    assert central_count([], shape) == 0


@pytest.fixture(scope="module")
def pbc_counts():
    if not PBC.is_dir():
        pytest.skip(f"PBC cells not found at {PBC}")
    locate = analyze_locator(CellClassifier(default_cell_model_dir()))
    counts = single_cell_counts(PBC, locate)
    for name, row in counts.items():
        print(name, {k: round(v, 3) for k, v in row.items()})
    return counts


GAP = (
    "known gap: colour normalisation can bleach a neutrophil's pale cytoplasm to the glass's "
    "level, and the lobes of such a cell are still cut apart; granules of its cytoplasm can "
    "form a mask object of their own"
)


def test_pbc_neutrophil_lobes_are_mostly_joined(pbc_counts):
    # a lobed neutrophil was cut into 2+ "cells" in 49.5% of the images before its lobes
    # were joined (25.5% after, 18.0% once a band's bend is not taken for a waist): its mean
    # count per image must stay clearly under 1.5
    assert pbc_counts["neutrophil"]["images"] == 200
    assert pbc_counts["neutrophil"]["mean"] < 1.5


def test_pbc_cells_are_counted_once(pbc_counts):
    # measured 0.952 (0.917 before the lobes were joined, 0.944 before a band's bend was
    # no longer taken for a waist between two cells)
    assert pbc_counts["all"]["images"] == 2007
    assert pbc_counts["all"]["1"] >= REQUIRED_SINGLE


@pytest.mark.xfail(
    strict=True, reason=f"{GAP} (measured 0.820 of neutrophils; 0.745 and 0.505 before)"
)
def test_pbc_neutrophils_are_counted_once(pbc_counts):
    assert pbc_counts["neutrophil"]["1"] >= REQUIRED_SINGLE
