"""Screenshot of the window mid-session at a given screen size, on a real X display.

    DISPLAY=:99 python tests/gui/screenshot_session.py OUT.png WIDTH HEIGHT SETTINGS_DIR MODEL_DIR

The window is maximised on a WIDTHxHEIGHT screen, a session is started, the demo slide runs
until fields are flagged, one is selected for review, then the window is grabbed. It prints
one JSON line, including labels whose text is wider than the label (clipped text).
"""

import json
import sys
import time

from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel

from allscope.app.settings import SETTINGS_FILE
from allscope.gui.app import create_app


def clipped_labels(window) -> list[str]:
    """Visible labels whose one-line text does not fit their width (word-wrapped ones excluded)."""
    out = []
    for label in window.findChildren(QLabel):
        if not label.isVisible() or label.wordWrap() or not label.text():
            continue
        needed = label.fontMetrics().horizontalAdvance(label.text())
        if needed > label.width() + 2 and "<" not in label.text():
            out.append(f"{label.text()[:40]!r} needs {needed}px, has {label.width()}px")
    return out


def main(output: str, width: str, height: str, settings_dir: str, model_dir: str) -> int:
    policy = {"threshold": 0.5, "consecutive": 1, "release": 0.1, "require_still": False}
    settings = {
        "policy": policy,
        "normalize_colour": False,
        "objective": "100× oil",
        "microns_per_pixel": {"100× oil": 0.1},
        "session_info": {"operator": "Dr. Example"},
    }
    with open(f"{settings_dir}/{SETTINGS_FILE}", "w", encoding="utf-8") as handle:
        json.dump(settings, handle)
    _, window = create_app(["--demo", "--model", model_dir, "--settings-dir", settings_dir])
    window.setGeometry(
        window.screen().availableGeometry()
    )  # Xvfb has no window manager to maximise
    window.show()
    QTest.qWait(500)
    window.sessions.create(
        {
            "patient_id": "PAT-2026-000123456789",
            "slide_id": "S-17",
            "operator": "Dr. Example",
            "lab_name": "Haematology Lab",
            "accession": "H26-004211",
            "date_of_birth": "1978-02-14",
            "clinician": "Dr. Moreau",
            "notes": "",
        }
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and window.gallery_model.rowCount() < 3:
        QTest.qWait(100)
    window.panels.review.select(0)
    QTest.qWait(1500)
    ok = window.grab().save(output)
    hint = window.minimumSizeHint()
    print(
        json.dumps(
            {
                "saved": ok,
                "size": [window.width(), window.height()],
                "minimum": [hint.width(), hint.height()],
                "gallery": window.gallery_model.rowCount(),
                "clipped": clipped_labels(window),
            }
        )
    )
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))
