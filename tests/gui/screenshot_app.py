"""Run the app under a real X server until a field is flagged, then save the window as PNG.

Used by test_screenshot.py in a subprocess (the test process itself runs Qt offscreen).
Arguments: OUTPUT_PNG SETTINGS_DIR MODEL_DIR.
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
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline and (
        window.gallery_model.rowCount() < 1 or window.displayed < 45
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
    print(json.dumps({"saved": ok, "gallery": window.gallery_model.rowCount(),
                      "first_thumbnail": thumbnail_rect(window),
                      "panel_state": window.panels.classification.state_label.text(),
                      "review_row": window.panels.review.current_row(), **window.metrics()}))
    window.close()
    return 0 if ok else 1


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
