"""``allscope bench`` runs end to end on a tiny model (one repeat); its structure is checked,
never its figures."""

from __future__ import annotations

import json

import pytest

from allscope.cli import main
from allscope.commands.bench import SIZES, live_run
from allscope.core.model_loading import load_classifier
from allscope.testing import write_tiny_package

STAGES = {"decode", "mask", "preprocess", "infer", "total"}


@pytest.fixture
def tiny(tmp_path):
    return write_tiny_package(tmp_path / "tiny").path


def test_bench_json_has_every_stage_at_every_size(tiny, capsys):
    argv = ["bench", "--json", "--model", str(tiny), "--repeats", "1", "--live-frames", "0",
            "--no-reference", "--no-cells"]
    assert main(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["model"] and document["cpu"]
    assert set(document) == {"model", "cpu", *STAGES}  # no reference, cells or live run asked for
    for stage in STAGES:
        assert set(document[stage]) == {f"{w}x{h}" for w, h in SIZES}
        for figures in document[stage].values():
            assert set(figures) == {"median_ms", "p95_ms"} and figures["median_ms"] >= 0


def test_bench_table_names_the_model_and_every_stage(tiny, capsys):
    argv = ["bench", "--model", str(tiny), "--repeats", "1", "--live-frames", "0",
            "--no-reference", "--no-cells"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("model: ") and lines[1].startswith("cpu: ")
    assert lines[2].split() == ["stage", *(f"{w}x{h}" for w, h in SIZES)]
    assert [line.split()[0] for line in lines[3:]] == ["decode", "mask", "preprocess", "infer",
                                                       "total"]


def test_live_run_counts_the_frames_after_the_warm_up(tiny):
    figures = live_run(load_classifier(tiny), frames=5, warmup=3)
    assert figures["frames"] >= 5
    assert set(figures) >= {"fps", "capture_fps", "classified_per_s", "latency_p50_ms",
                            "latency_p95_ms", "dropped", "rss_start_mb", "rss_end_mb"}
    assert figures["rss_start_mb"] > 0 and figures["dropped"] >= 0
