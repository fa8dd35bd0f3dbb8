"""Pagination of the report's blocks, and the Qt application a report needs: made offscreen for
a script without a display, refused when only a QCoreApplication runs. The Qt application tests
run in a fresh interpreter, since the test process already has its application."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from allscope.report import layout as lay

ROOT = Path(__file__).resolve().parents[2]


def spacer(height: float, keep: bool = False) -> lay.SpacerBlock:
    block = lay.SpacerBlock(height)
    block.keep_with_next = keep
    return block


def test_blocks_stack_and_a_block_that_does_not_fit_starts_the_next_page():
    a, b, c = spacer(40), spacer(40), spacer(40)
    pages = lay.paginate([a, b, c], top=10, bottom=100)
    assert [[(p.block, p.y) for p in page] for page in pages] == [[(a, 10), (b, 50)], [(c, 10)]]


def test_a_page_break_on_an_empty_page_adds_no_blank_page():
    a, b = spacer(10), spacer(10)
    pages = lay.paginate([lay.PageBreak(), a, lay.PageBreak(), lay.PageBreak(), b], 0, 100)
    assert [[p.block for p in page] for page in pages] == [[a], [b]]


def test_a_heading_moves_to_the_next_page_with_what_follows_it():
    body, heading, after = spacer(50), spacer(10, keep=True), spacer(40)
    pages = lay.paginate([body, heading, after], top=0, bottom=95)
    assert [[p.block for p in page] for page in pages] == [[body], [heading, after]]
    # the last block has nothing to keep with
    last = spacer(10, keep=True)
    assert len(lay.paginate([body, last], top=0, bottom=95)) == 1


def test_a_block_taller_than_a_page_gets_a_page_of_its_own():
    tall, small = spacer(500), spacer(10)
    pages = lay.paginate([small, tall, small], top=0, bottom=100)
    assert [[p.block for p in page] for page in pages] == [[small], [tall], [small]]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items()
             if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    clean["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-c", code], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_a_script_without_a_display_gets_an_offscreen_application():
    done = run_python(
        "import os\n"
        "from allscope.report.qt_app import ensure_gui_app\n"
        "app = ensure_gui_app()\n"
        "assert ensure_gui_app() is app\n"
        "print(type(app).__name__, os.environ['QT_QPA_PLATFORM'], app.platformName())\n"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["QApplication", "offscreen", "offscreen"]


def test_a_running_core_application_is_refused_with_what_to_do():
    done = run_python(
        "from PySide6.QtCore import QCoreApplication\n"
        "from allscope.report.qt_app import ensure_gui_app\n"
        "core = QCoreApplication([])\n"
        "try:\n"
        "    ensure_gui_app()\n"
        "except RuntimeError as exc:\n"
        "    print(exc)\n",
        QT_QPA_PLATFORM="offscreen",
    )
    assert done.returncode == 0, done.stderr
    assert "a QCoreApplication is running; create a QGuiApplication" in done.stdout
