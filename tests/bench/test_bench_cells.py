"""The cell stages of ``allscope bench --json`` (structure and counts; times never asserted)."""

from __future__ import annotations

import json

import pytest

from allscope.bench.cells import SIZES, cell_stage_timings, model_sizes
from allscope.cli import main
from allscope.core.cells.classifier import CellClassifier
from allscope.testing import write_tiny_cells_package


def test_cell_stages_are_timed_per_field_and_per_cell_at_each_size(tmp_path):
    timings = cell_stage_timings(CellClassifier(write_tiny_cells_package(tmp_path / "c")), 2)
    assert set(timings) == {f"{w}x{h}" for w, h in SIZES}
    for entry in timings.values():
        assert entry["cells"] >= 1
        for stage in ("detect", "crop", "classify", "total"):
            field = entry[stage]["per_field"]
            assert 0 < field["median_ms"] <= field["p95_ms"]
            assert entry[stage]["per_cell_median_ms"] == pytest.approx(
                field["median_ms"] / entry["cells"], abs=1e-3
            )


def test_the_cell_model_is_timed_at_its_own_and_smaller_inputs(tmp_path):
    classifier = CellClassifier(write_tiny_cells_package(tmp_path / "c", size=32))
    timings = model_sizes(classifier, 2, batch=4, sizes=(24, 16))
    assert timings["batch"] == 4
    assert set(timings["ms_per_cell"]) == {
        f"{side}px {kind}" for side in (32, 24, 16) for kind in ("fixed", "dynamic")
    }
    assert all(ms > 0 for ms in timings["ms_per_cell"].values())


@pytest.mark.slow
def test_bench_json_carries_the_cell_stages_and_the_analyze_rates(tmp_path, capsys):
    import cv2

    from allscope.core.sources.demo.slide import render_field

    for seed in range(2):
        cv2.imwrite(str(tmp_path / f"f{seed}.png"), render_field(224, 224, seed=seed)[0])
    cells = write_tiny_cells_package(tmp_path / "cells").path
    code = main(
        [
            "bench",
            "--json",
            "--repeats",
            "2",
            "--live-frames",
            "0",
            "--no-reference",
            "--cell-model",
            str(cells),
            "--analyze",
            str(tmp_path),
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert document["cell_model"].startswith("tiny-cells")
    assert set(document["cells"]["1920x1080"]) >= {"detect", "crop", "classify", "total"}
    assert document["analyze"]["fields"] == 2
    assert set(document["analyze"]["fields_per_s"]) == {"fields_only", "with_cells"}
    assert set(document["analyze"]["cpu_ms_per_field"]) == {"fields_only", "with_cells"}
    assert set(document["cells_side_by_side"]) == {f"{w}x{h}" for w, h in SIZES}
    assert "32px fixed" in document["cell_model_sizes"]["ms_per_cell"]
    assert set(document["cell_batches_varying"]["ms_per_cell"]) == {"fixed", "dynamic"}
