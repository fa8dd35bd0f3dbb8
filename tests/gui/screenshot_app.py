"""Run the app under a real X server mid-session until a field is flagged and the Cells dock
tallies cells, then save the window as PNG and say what it shows (one JSON line).

Used by test_screenshot.py in a subprocess (the test process itself runs Qt offscreen).
Arguments: OUTPUT_PNG SETTINGS_DIR MODEL_DIR. The shipped cell model judges the cells.
"""

import json
import sys
import time

from PySide6.QtTest import QTest

from allscope.app.settings import SETTINGS_FILE
from allscope.gui.app import create_app


def main(output: str, settings_dir: str, model_dir: str) -> int:
    policy = {"threshold": 0.5, "consecutive": 1, "release": 0.1, "require_still": False}
    with open(f"{settings_dir}/{SETTINGS_FILE}", "w", encoding="utf-8") as handle:
        json.dump(
            {"policy": policy, "normalize_colour": False,  # the tiny model reads raw colours
             "session_info": {"slide_id": "DEMO-1", "operator": "test"}}, handle
        )
    _, window = create_app(["--demo", "--model", model_dir, "--settings-dir", settings_dir],
                           source_options={"width": 960, "height": 540})
    window.resize(1600, 1000)
    window.show()
    QTest.qWait(300)
    window.sessions.create({"patient_id": "P-SHOT", "slide_id": "DEMO-1", "operator": "test",
                            "lab_name": "", "notes": ""})
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and (
        window.gallery_model.rowCount() < 1 or window.displayed < 45 or tallied(window) < 1
    ):
        QTest.qWait(100)
    window.panels.review.select(0)
    QTest.qWait(1000)  # let plots and the flag indicator catch up
    still_by = time.monotonic() + 8  # grab while the stage dwells, so the outlines are drawn

    def dwelling() -> bool:
        snapshot = window.controller.latest()
        return snapshot is not None and not snapshot.moving and snapshot.mask.wbc_count > 0

    while time.monotonic() < still_by and not dwelling():
        QTest.qWait(50)
    QTest.qWait(300)  # a few display ticks with the still mask
    ok = window.grab().save(output)
    panel = window.panels.classification
    print(json.dumps({"saved": ok, "gallery": window.gallery_model.rowCount(),
                      "first_thumbnail": thumbnail_rect(window),
                      "first_label": window.gallery_model.data(window.gallery_model.index(0)),
                      "panel_state": panel.state_label.text(), "panel_kind": panel.state.kind,
                      "panel_bar": panel.p_bar.name,
                      "class_bars_shown": any(b.isVisible() for b in panel._bars.values()),
                      "cells_dock": rect_of(window, window.cells) if window.cells else None,
                      "cells_tab_front": bool(window.cells and not window.cells.visibleRegion()
                                              .isEmpty()),
                      "tally_text": window.cells.tally.text("White cells counted")
                      if window.cells else None,
                      "tally_wbc": tallied(window),
                      "review_row": window.panels.review.current_row(), **window.metrics()},
                     ensure_ascii=False))
    window.close()
    return 0 if ok else 1


def tallied(window) -> int:
    """White cells in the Cells dock's tally (0 before the dock is built)."""
    tally = None if window.cells is None else window.cells.tally.tally
    return 0 if tally is None else tally.wbc


def rect_of(window, widget) -> list[int]:
    """[x, y, width, height] of a widget in window coordinates."""
    top_left = widget.mapTo(window, widget.rect().topLeft())
    return [top_left.x(), top_left.y(), widget.width(), widget.height()]


def thumbnail_rect(window) -> list[int] | None:
    """[x, y, width, height] of the gallery's first thumbnail in window coordinates."""
    view = window.panels.review.gallery
    if window.gallery_model.rowCount() < 1:
        return None
    rect = view.visualRect(window.gallery_model.index(0, 0))
    top_left = view.viewport().mapTo(window, rect.topLeft())
    return [top_left.x(), top_left.y(), rect.width(), rect.height()]


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
