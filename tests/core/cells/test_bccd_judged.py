"""On BCCD (normal blood from another laboratory and camera) at least 80% of the fields must
have their cells judged: the field model's out-of-distribution abstention must not gate the
cell judgement. Real fields, the shipped field model, and the shipped cell model when it is
installed (else a tiny one: whether cells can be judged does not depend on the weights)."""

from __future__ import annotations

import pytest

from allscope.core.batch import BatchAnalyzer
from allscope.core.cells.classifier import CellClassifier
from allscope.core.model_loading import (
    cell_model_folder,
    has_cell_package,
    has_model_package,
    load_classifier,
)
from allscope.core.ood import OUTSIDE
from allscope.paths import shared_data_dir
from allscope.testing import write_tiny_cells_package

BCCD = shared_data_dir() / "bccd" / "JPEGImages"


@pytest.mark.shared
@pytest.mark.slow
@pytest.mark.skipif(not BCCD.is_dir(), reason="../shared/data/bccd is absent")
@pytest.mark.skipif(not has_model_package(), reason="models/default is not installed")
def test_at_least_80_percent_of_bccd_fields_are_judged(tmp_path):
    cells = CellClassifier(
        cell_model_folder() if has_cell_package() else write_tiny_cells_package(tmp_path / "c").path
    )
    report = BatchAnalyzer(load_classifier(mode="throughput"), cell_classifier=cells).run([BCCD])
    judged = sum(r.cells_judged for r in report.results)
    outside = sum(r.ood_score is not None and f"subtype: {OUTSIDE}" in r.reasons
                  for r in report.results)
    print(f"BCCD: {judged}/{len(report.results)} fields judged; {outside} of the suspicious "
          "ones were outside the field model's experience")
    assert len(report.results) == 364
    assert judged >= 0.8 * len(report.results)
