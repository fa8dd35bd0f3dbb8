"""The README's training commands, run as written (shortened to two training steps and a small
calibration set) on the shared data; needs the train extra and ../shared."""

import importlib.util

import pytest
from readme_commands import allscope_commands, run_allscope

from allscope.core.model_package import load_package
from allscope.paths import shared_dir

SHARED = shared_dir()

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("torch") is None, reason="the train extra (torch) is not installed"
    ),
    pytest.mark.skipif(
        not (SHARED / "data" / "all-fields").is_dir(), reason="../shared/data is absent"
    ),
]


def test_training_commands_run_as_written(tmp_path):
    work = tmp_path / "allscope"
    work.mkdir()
    (tmp_path / "shared").symlink_to(SHARED)  # the README's ../shared, seen from the work folder
    train, evaluate, export = allscope_commands(" train")
    shorten = {
        train: ("--max-steps", "2", "--epochs", "1"),
        evaluate: (),
        export: ("--calib", "16"),
    }
    for command in (train, evaluate, export):
        done = run_allscope(command, work, *shorten[command], timeout=900)
        assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
    assert (work / "runs/default/split.json").is_file()
    assert "accuracy" in (work / "runs/default/eval.md").read_text(encoding="utf-8").lower()
    assert load_package(work / "runs/default/package").classes == (
        "Benign", "Early Pre-B", "Pre-B", "Pro-B",
    )
