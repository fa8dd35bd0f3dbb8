"""Kill test: a writer process is SIGKILLed at random moments; every acknowledged field survives.

The child saves flagged fields in a loop and prints each field's id and image hash only after
``add_field`` returned (the moment the GUI would show it). After each kill the store must
reopen, pass SQLite's integrity check, and hold every printed field with intact files.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time

import cv2
import pytest

from allscope.core.store import SessionStore

KILLS = 12

WRITER = r"""
import sys
import numpy as np
from allscope.core.results import FieldResult
from allscope.core.store import SessionInfo, SessionStore

store = SessionStore(sys.argv[1])
sid = store.create_session(SessionInfo(patient_id="kill-test", slide_id=sys.argv[2]))
rng = np.random.default_rng(int(sys.argv[2]))
print("ready", flush=True)
for i in range(100000):
    image = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    mask = (image[:, :, 0] > 128).astype(np.uint8) * 255
    result = FieldResult(frame_id=i, timestamp=float(i), source="kill", name=str(i), wbc_count=1,
                         mask_coverage=0.5, assessable=True, classes=("Benign", "Pre-B"),
                         probabilities=(0.1, 0.9), label="Pre-B", p_all=0.9, flagged=True)
    store.record_result(sid, result)
    field = store.add_field(sid, "flag", image, mask, result)
    print(field.id, field.image_sha256, field.mask_sha256, flush=True)
"""


def run_and_kill(root, seed: int, rng: random.Random) -> list[tuple[int, str, str]]:
    """Start the writer, SIGKILL it at a random moment, return the fields it acknowledged."""
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), str(seed)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(rng.uniform(0.0, 0.6))
    finally:
        child.send_signal(signal.SIGKILL)
    out, _err = child.communicate(timeout=10)
    assert child.returncode == -signal.SIGKILL
    acked = []
    for line in out.split("\n")[:-1]:  # the last piece may be a line cut by the kill
        field_id, image_sha, mask_sha = line.split()
        acked.append((int(field_id), image_sha, mask_sha))
    return acked


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX-only")
def test_every_acknowledged_field_survives_repeated_sigkill(tmp_path):
    rng = random.Random(20240501)
    acknowledged: list[tuple[int, str, str]] = []
    for seed in range(KILLS):
        acknowledged += run_and_kill(tmp_path, seed, rng)
        with SessionStore(tmp_path) as store:  # reopen after every kill, as the app would
            assert store.integrity_check() == ["ok"]
    print(f"\nkill test: {KILLS} SIGKILLs, {len(acknowledged)} acknowledged fields, all checked")
    assert len(acknowledged) > 0
    with SessionStore(tmp_path) as store:
        assert len(store.unfinished_sessions()) == KILLS
        for field_id, image_sha, mask_sha in acknowledged:
            field = store.get_field(field_id)
            assert (field.image_sha256, field.mask_sha256) == (image_sha, mask_sha)
            assert hashlib.sha256(field.image_path.read_bytes()).hexdigest() == image_sha
            assert hashlib.sha256(field.mask_path.read_bytes()).hexdigest() == mask_sha
            assert cv2.imread(str(field.image_path)).shape == (120, 160, 3)
