"""Fault injection: real files, real subprocesses, small file systems, and the shared checks.

Every case ends in ``assert_clean``: no traceback, no death by a signal, a message that names
the file and says what to do. Commands run in-process (``cli``) where a subprocess is not what
is tested, and as ``python -m allscope`` (``run``) where it is: exit status, signals, aborts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


class Outcome:
    """What a command did: exit status and everything it printed."""

    def __init__(self, returncode: int, out: str, err: str) -> None:
        self.returncode, self.out, self.err = returncode, out, err

    @property
    def text(self) -> str:
        return self.out + self.err


def env_for(tmp: Path, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "QT_QPA_PLATFORM": "offscreen",
        "ALLSCOPE_DATA_DIR": str(tmp / "data"),
        "ALLSCOPE_CONFIG_DIR": str(tmp / "config"),
        **extra,
    }
    env.pop("PYTHONWARNINGS", None)
    return env


def run(
    tmp: Path, *args: object, timeout: float = 120, permissions_apply: bool = False, **extra: str
) -> Outcome:
    """``python -m allscope ARGS`` in a subprocess running this checkout's code.

    ``permissions_apply``: as root, the command runs without the capabilities that let root
    ignore file modes (setpriv), so "permission denied" happens as it does for any user.
    """
    prefix: list[str] = []
    if permissions_apply and IS_ROOT:
        if shutil.which("setpriv") is None:
            pytest.skip("as root, permission faults need setpriv to drop CAP_DAC_OVERRIDE")
        prefix = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "allscope", *map(os.fsdecode, args)],
        capture_output=True,
        env=env_for(tmp, **extra),
        timeout=timeout,
        cwd=tmp,
    )
    return Outcome(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


@pytest.fixture()
def cli(capsys, monkeypatch, tmp_path):
    """Run ``allscope ARGS`` in this process (the same code path as the console script)."""
    from allscope.cli import main

    monkeypatch.setenv("ALLSCOPE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ALLSCOPE_CONFIG_DIR", str(tmp_path / "config"))

    def invoke(*args: object) -> Outcome:
        try:
            code = main([os.fsdecode(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
        captured = capsys.readouterr()
        return Outcome(code, captured.out, captured.err)

    return invoke


def assert_clean(
    outcome: Outcome, *names: str, status: int | tuple[int, ...] | None = None
) -> None:
    """No traceback, no signal death or abort; the message names each of ``names``."""
    assert "Traceback" not in outcome.text, outcome.text
    assert "FATAL" not in outcome.text and "Segmentation" not in outcome.text, outcome.text
    assert outcome.returncode >= 0 and outcome.returncode != 134, (outcome.returncode, outcome.text)
    if status is not None:
        allowed = status if isinstance(status, tuple) else (status,)
        assert outcome.returncode in allowed, (outcome.returncode, outcome.text)
    for name in names:
        assert name in outcome.text, (name, outcome.text)


def field_image(seed: int = 0, width: int = 160, height: int = 120) -> np.ndarray:
    """A small stained field with white cells (the demo renderer): something to analyse."""
    from allscope.core.sources.demo.slide import render_field

    return render_field(width, height, seed=seed, n_wbc=2)[0]


def write_png(path: Path, image: np.ndarray) -> Path:
    ok, data = cv2.imencode(".png", image)
    assert ok
    Path(path).write_bytes(data.tobytes())
    return Path(path)


def write_jpeg(path: Path, image: np.ndarray) -> Path:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    Path(path).write_bytes(data.tobytes())
    return Path(path)


def write_video(path: Path, count: int = 30, size: tuple[int, int] = (96, 72)) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, size)
    for i in range(count):
        writer.write(field_image(i % 3, *size))
    writer.release()
    return Path(path)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A real OpenVINO model package (mean colour -> dense), written once for the suite."""
    from allscope.testing import write_tiny_package

    return write_tiny_package(tmp_path_factory.mktemp("model") / "tiny", size=64).path


@pytest.fixture()
def fields_dir(tmp_path) -> Path:
    folder = tmp_path / "fields"
    folder.mkdir()
    for i in range(2):
        write_png(folder / f"field{i}.png", field_image(i))
    return folder


@contextlib.contextmanager
def small_fs(size: str = "256k", read_only: bool = False):
    """A tmpfs of ``size`` (a full disk in miniature); skips where mounting is not allowed."""
    if not IS_ROOT:
        pytest.skip("mounting a small file system needs root (run as root, e.g. in CI containers)")
    mount = Path("/tmp") / f"allscope-fault-{uuid.uuid4().hex[:8]}"
    mount.mkdir()
    options = f"size={size},mode=0777"
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        mount.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
        mount.rmdir()


def remount_read_only(mount: Path) -> None:
    done = subprocess.run(["mount", "-o", "remount,ro", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot remount read-only: {done.stderr.decode(errors='replace').strip()}")


def fill(mount: Path) -> None:
    """Fill the file system to the last byte."""
    with contextlib.suppress(OSError), open(mount / "filler", "wb") as handle:
        while True:
            handle.write(b"\0" * 4096)
            handle.flush()
    with contextlib.suppress(OSError):
        (mount / "filler-small").write_bytes(b"\0" * 512)


def shared_tmp() -> Path:
    """A folder another user can enter (pytest's tmp folders are private to their owner)."""
    folder = Path("/tmp") / f"allscope-fault-{uuid.uuid4().hex[:8]}"
    folder.mkdir(mode=0o777)
    os.chmod(folder, 0o777)
    return folder
