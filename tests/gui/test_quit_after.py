"""``allscope --demo --quit-after SECONDS``: runs the real app, prints one JSON line, exits 0."""

import json
import os
import subprocess
import sys

import pytest

KEYS = {"display_fps", "processed_fps", "classified_per_s", "max_stall_ms", "flags"}


@pytest.mark.slow
def test_quit_after_prints_one_json_line_and_exits_zero(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    run = subprocess.run([sys.executable, "-m", "allscope", "--demo", "--quit-after", "3",
                          "--settings-dir", str(tmp_path), "--model", str(tmp_path / "no-model")],
                         env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    figures = json.loads(lines[0])
    assert set(figures) >= KEYS
    assert figures["display_fps"] > 0 and figures["flags"] == 0  # no model: nothing can be flagged
    assert (tmp_path / "settings.json").is_file()
