"""Without a display the app says so and exits non-zero, instead of Qt aborting the process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from allscope.display import display_problem

ROOT = Path(__file__).resolve().parents[1]


def test_no_display_variables_on_linux_is_a_problem():
    message = display_problem({}, "linux")
    assert "neither DISPLAY nor WAYLAND_DISPLAY is set" in message
    assert "allscope analyze" in message


def test_a_local_display_without_its_x_socket_is_a_problem():
    assert "no X server listens" in display_problem({"DISPLAY": ":9731"}, "linux")


def test_headless_plugins_wayland_remote_displays_and_other_systems_pass():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") is None
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    assert display_problem({"DISPLAY": "otherhost:10.0"}, "linux") is None
    assert display_problem({}, "win32") is None


def test_the_app_exits_with_a_message_and_no_qt_abort_when_there_is_no_display(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "allscope", "--settings-dir", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3
    assert "there is no display" in done.stderr
    assert "Reinstalling" not in done.stderr and "Aborted" not in done.stderr


def test_missing_x11_libraries_are_named_with_their_packages(monkeypatch):
    import ctypes.util

    from allscope.display import missing_x_libraries

    monkeypatch.setattr(
        ctypes.util, "find_library", lambda name: None if name == "xcb-icccm" else f"lib{name}.so"
    )
    assert missing_x_libraries() == ["xcb-icccm"]
