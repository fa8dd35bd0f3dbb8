"""A screenshot of the main window mid-session, on a real (virtual) X display.

Saves to $ALLSCOPE_SCREENSHOT when set, else into the test's temporary folder. Skipped when
Xvfb is not installed (apt-get install xvfb).
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from gui_helpers import write_tiny_model
from PySide6.QtGui import QImage

HERE = Path(__file__).parent


@pytest.fixture
def x_display():
    if shutil.which("Xvfb") is None:
        pytest.skip(
            "Xvfb is not installed (apt-get install xvfb); the screenshot needs an X display"
        )
    number = 90 + os.getpid() % 500
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1920x1200x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 10
    while not socket.exists() and server.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not socket.exists():
        server.kill()
        pytest.skip(f"Xvfb did not start on display :{number}")
    probe = subprocess.run(
        [sys.executable, "-c", "from PySide6.QtWidgets import QApplication; QApplication([])"],
        env={**os.environ, "DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}, capture_output=True,
        text=True, timeout=60,
    )
    if probe.returncode != 0:
        server.terminate()
        server.wait(10)
        pytest.skip(
            "Qt's xcb platform plugin cannot load (apt-get install libxcb-cursor0 libxcb-icccm4 "
            f"libxcb-keysyms1 libxkbcommon-x11-0): {probe.stderr.strip().splitlines()[:1]}"
        )
    yield f":{number}"
    server.terminate()
    server.wait(10)


def test_screenshot_of_the_main_window_mid_session(x_display, tmp_path):
    output = Path(os.environ.get("ALLSCOPE_SCREENSHOT") or tmp_path / "main_window.png")
    write_tiny_model(tmp_path / "model")
    (tmp_path / "settings").mkdir()
    env = {**os.environ, "DISPLAY": x_display, "QT_QPA_PLATFORM": "xcb",
           "PYTHONPATH": os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])}
    run = subprocess.run([sys.executable, str(HERE / "screenshot_app.py"), str(output),
                          str(tmp_path / "settings"), str(tmp_path / "model")],
                         env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    assert '"saved": true' in run.stdout
    figures = json.loads(run.stdout.strip().splitlines()[-1])
    image = QImage(str(output))
    assert (image.width(), image.height()) == (1600, 1000)
    # mid-session: a flag raised by cells in the gallery, labelled in cells, selected for review
    assert figures["gallery"] >= 1 and figures["flags"] >= 1
    assert figures["review_row"] == 0
    label = figures["first_label"]
    assert label.startswith("⚑ ") and "P(blast)" in label and "P(ALL)" not in label, label
    # the panel judges live fields in cells: a state, the P(blast) bar, no field-class bars
    assert figures["panel_state"] and figures["panel_kind"] != "waiting"
    assert figures["panel_bar"] == "P(blast)" and not figures["class_bars_shown"]
    # the Cells dock is in front and its tally counts the session's cells
    assert figures["cells_tab_front"] and figures["tally_wbc"] >= 1
    assert figures["tally_text"].endswith("of 100")
    dx, dy, dw, dh = figures["cells_dock"]
    assert dw >= 200 and dh >= 150 and dx + dw <= 1600 and dy + dh <= 1000
    # the picture shows the flagged field's thumbnail where the gallery's first item is
    x, y, w, h = figures["first_thumbnail"]
    assert w >= 32 and h >= 32 and x + w <= 1600 and y + h <= 1000
    thumb = image.copy(x, y, w, h).convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(thumb.constBits(), np.uint8, thumb.sizeInBytes())
    pixels = pixels.reshape(h, thumb.bytesPerLine())[:, : 3 * w].reshape(h, w, 3)
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # a field, not an empty cell
    print(run.stdout.strip().splitlines()[-1], "->", output)
