"""Signals at random moments during ``allscope analyze`` with every output.

Whenever SIGINT, SIGTERM or SIGKILL lands (start-up, analysis, writing), the earlier outputs
are intact or replaced by complete new ones; no file under a final name is partial; SIGINT and
SIGTERM end the command in order (status 130/143, a message, no traceback).
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from .conftest import Outcome, assert_clean, env_for, field_image

PREVIOUS_JSON = '{"previous": true}\n'
PREVIOUS_CSV = "previous,run\n"
FIELDS = 100


@pytest.fixture(scope="module")
def many_fields(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("many")
    pngs = [cv2.imencode(".png", field_image(i, 200, 150))[1].tobytes() for i in range(5)]
    for i in range(FIELDS):
        (folder / f"f{i:03d}.png").write_bytes(pngs[i % 5])
    return folder


def _wait_for(proc: subprocess.Popen, masks: Path, count: int, timeout: float = 60.0) -> bool:
    """Until ``count`` new masks exist (the run is that far); False if it ended first."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if sum(1 for p in masks.iterdir() if p.name.startswith("f0")) >= count:
            return True
        time.sleep(0.02)
    return False


def _wait_for_handlers(proc: subprocess.Popen, timeout: float = 30.0) -> None:
    """Until the process catches SIGTERM (Linux: SigCgt in /proc): allscope's first act. Before
    that the Python interpreter itself is starting and the system's default action applies."""
    status = Path(f"/proc/{proc.pid}/status")
    if not status.exists():
        time.sleep(0.5)
        return
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        try:
            lines = status.read_text().splitlines()
        except OSError:
            return  # it has ended
        caught = next((ln for ln in lines if ln.startswith("SigCgt:")), "")
        if caught and int(caught.split()[1], 16) & (1 << (signal.SIGTERM - 1)):
            return
        time.sleep(0.005)


MOMENTS = ["start-up", "first-fields", "mid-run"]


@pytest.mark.parametrize(
    "signum", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name
)
@pytest.mark.parametrize("moment", MOMENTS)
def test_a_signal_at_any_moment_loses_nothing_and_presents_nothing_partial(
    signum, moment, tmp_path, many_fields
):
    rng = random.Random(f"{moment}-{signum.name}")  # seeded: the same moments on every run
    out = tmp_path / "out"
    (masks := out / "masks").mkdir(parents=True)
    (out / "r.json").write_text(PREVIOUS_JSON)
    (out / "r.csv").write_text(PREVIOUS_CSV)
    (masks / "from-before.png").write_bytes(
        cv2.imencode(".png", np.zeros((4, 4), np.uint8))[1].tobytes()
    )
    command = [
        sys.executable,
        "-m",
        "allscope",
        "analyze",
        str(many_fields),
        "--no-model",
        "--json",
        str(out / "r.json"),
        "--csv",
        str(out / "r.csv"),
        "--masks",
        str(masks),
    ]
    proc = subprocess.Popen(
        command, env=env_for(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    if moment == "start-up":
        _wait_for_handlers(proc)  # the interpreter's own start-up cannot run any handler
        time.sleep(rng.uniform(0.0, 0.3))
    else:
        reached = _wait_for(proc, masks, 1 if moment == "first-fields" else FIELDS // 2)
        assert reached, "the run ended before the moment to interrupt it"
        time.sleep(rng.uniform(0.0, 0.1))
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=120)
    outcome = Outcome(
        proc.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace")
    )
    finished = outcome.returncode == 0
    if signum != signal.SIGKILL:
        assert_clean(outcome, status=(0, 128 + signum))
        if not finished:
            assert "was stopped" in outcome.err and signum.name in outcome.err
    else:
        assert outcome.returncode in (0, -signal.SIGKILL)
    _check_outputs(out, masks, finished)


def _check_outputs(out: Path, masks: Path, finished: bool) -> None:
    text = (out / "r.json").read_text()
    if text != PREVIOUS_JSON:  # replaced: then only by a complete document
        assert len(json.loads(text)["fields"]) == FIELDS
    csv_text = (out / "r.csv").read_text()
    if csv_text != PREVIOUS_CSV:
        assert len(csv_text.strip().splitlines()) == FIELDS + 1
    if finished:
        assert text != PREVIOUS_JSON and csv_text != PREVIOUS_CSV
    for mask in masks.iterdir():
        if mask.name.startswith("."):
            continue  # a temporary: never under a final name
        image = cv2.imdecode(np.fromfile(mask, np.uint8), cv2.IMREAD_UNCHANGED)
        assert image is not None and image.size > 0, mask
    assert (masks / "from-before.png").is_file()
