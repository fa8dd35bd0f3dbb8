"""The colour target file (``allscope.core.colour.target``): written and read back, and refused
with what to do when it is missing or incomplete."""

from __future__ import annotations

import json

import pytest

from allscope.core.colour.target import ColourTarget, RegionStats, load_colour_target


def target(glass=None) -> ColourTarget:
    return ColourTarget(RegionStats((90.0, 1.0, -2.0), (3.0, 1.0, 1.0)),
                        RegionStats((50.0, 30.0, -20.0), (9.0, 6.0, 5.0)), "test", 12, glass)


@pytest.mark.parametrize("glass", [None, (95.0, 0.5, -1.0)])
def test_a_target_reads_back_as_written(tmp_path, glass):
    path = tmp_path / "colour_target.json"
    path.write_text(json.dumps(target(glass).to_dict()))
    assert load_colour_target(path) == target(glass)


def test_a_missing_target_says_how_to_make_one(tmp_path):
    with pytest.raises(FileNotFoundError, match="colour target missing; run `allscope trust colo"):
        load_colour_target(tmp_path / "colour_target.json")


@pytest.mark.parametrize(
    "data",
    [{"background": {"mean": [1, 2, 3], "std": [1, 1, 1]}},  # no cells
     {"background": {"mean": [1, 2], "std": [1, 1, 1]}, "cells": {"mean": [1, 2, 3]}}],
    ids=["no-cells", "short-mean"],
)
def test_an_incomplete_target_is_refused(tmp_path, data):
    path = tmp_path / "colour_target.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="colour target needs background and cells with mean"):
        load_colour_target(path)
