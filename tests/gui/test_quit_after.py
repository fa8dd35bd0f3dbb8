"""``allscope --demo --quit-after SECONDS``: runs the real app, prints one JSON line, exits 0."""

import json
import os
import subprocess
import sys

import pytest

from allscope.testing import write_tiny_cells_package

KEYS = {"display_fps", "processed_fps", "classified_per_s", "max_stall_ms", "flags"}


@pytest.mark.slow
def test_quit_after_prints_one_json_line_and_exits_zero(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-m", "allscope", "--demo", "--quit-after", "3",
                          "--settings-dir", str(tmp_path), "--model", str(tmp_path / "no-model"),
                          "--cell-model", str(tmp_path / "no-cell-model")],
                         env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    figures = json.loads(lines[0])
    assert set(figures) >= KEYS
    assert figures["display_fps"] > 0 and figures["flags"] == 0  # no model: nothing can be flagged
    assert (tmp_path / "settings.json").is_file()


@pytest.mark.slow
def test_quit_after_reports_the_slide_tally_and_the_cell_rate(tmp_path):
    cells = write_tiny_cells_package(tmp_path / "cells").path
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-m", "allscope", "--demo", "--quit-after", "12",
                          "--settings-dir", str(tmp_path), "--model", str(tmp_path / "no-model"),
                          "--cell-model", str(cells)],
                         env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads([line for line in run.stdout.splitlines() if line.strip()][-1])
    tally = figures["tally"]
    assert set(tally) == {"wbc", "blasts", "blast_fraction"}
    assert tally["wbc"] >= 1 and 0 <= tally["blasts"] <= tally["wbc"]
    assert tally["blast_fraction"] == pytest.approx(tally["blasts"] / tally["wbc"])
    assert figures["cells_per_s"] > 0


@pytest.fixture(scope="module")
def demo_figures(tmp_path_factory) -> dict:
    """The real app on the demo slide with the shipped field and cell models and the app's
    defaults (colour normalisation on), for 30 s (the README states what 20 s gave) so that a
    loaded machine still reaches the counts."""
    folder = tmp_path_factory.mktemp("demo")  # settings and sessions of this run only
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ALLSCOPE_DATA_DIR": str(folder)}
    run = subprocess.run([sys.executable, "-m", "allscope", "--source", "demo",
                          "--quit-after", "30", "--settings-dir", str(folder)],
                         env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return json.loads([line for line in run.stdout.splitlines() if line.strip()][-1])


@pytest.mark.slow
def test_the_demo_shows_the_product_working_with_the_shipped_models(demo_figures):
    """Issue 11 §11: the real app flags a field and tallies at least 20 distinct white cells."""
    figures = demo_figures
    assert figures["source"].startswith("demo slide") and figures["messages"] == []
    assert figures["flags"] >= 1, figures
    assert figures["tally"]["wbc"] >= 20, figures
    assert 0 <= figures["tally"]["blasts"] <= figures["tally"]["wbc"]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "known gap: cells package 2.1.0 does not recognise the demo slide's synthetic blasts "
    "(median P(blast) 0.07 against its threshold 0.26; 0.085 against 0.21 for 2.0.0, which "
    "counted 3 of 43 by near-threshold calls): the demo's flags come from cells called blast "
    "in some frames, and voted over the frames that showed them whole none is a blast"))
def test_the_demo_tally_counts_a_blast(demo_figures):
    assert demo_figures["tally"]["blasts"] >= 1, demo_figures
