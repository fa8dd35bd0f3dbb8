"""Screenshot of the window mid-session at a given screen size, on a real X display.

    xvfb-run -a -s "-screen 0 1366x768x24" python tests/gui/screenshot_session.py \
        OUT.png 1366 768 SETTINGS_DIR [MODEL_DIR]

The window is maximised on a WIDTHxHEIGHT screen, a session is started, the demo slide runs
until fields are flagged and the Cells dock tallies cells, one flag is selected for review,
then the window is grabbed. Without MODEL_DIR the shipped field and cell models run with the
app's defaults (colour normalisation on). It prints one JSON line: what the panel, the first
gallery label and the tally say, and labels whose text is wider than the label (clipped).
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


def main(output: str, width: str, height: str, settings_dir: str, model_dir: str = "") -> int:
    policy = {"threshold": 0.5, "consecutive": 1, "release": 0.1, "require_still": False}
    settings = {
        "normalize_colour": not model_dir,  # a test model reads the demo's raw colours
        "objective": "100× oil",
        "microns_per_pixel": {"100× oil": 0.1},
        "session_info": {"operator": "Dr. Example"},
    }
    if model_dir:  # a test model flags at once; the shipped models run with their policy
        settings["policy"] = policy
    with open(f"{settings_dir}/{SETTINGS_FILE}", "w", encoding="utf-8") as handle:
        json.dump(settings, handle)
    model = ["--model", model_dir] if model_dir else []
    _, window = create_app(["--demo", *model, "--settings-dir", settings_dir])
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
    deadline = time.monotonic() + 90

    def tallied() -> int:
        return 0 if window.cells is None or window.cells.tally.tally is None else (
            window.cells.tally.tally.wbc)

    while time.monotonic() < deadline and (window.gallery_model.rowCount() < 3 or not tallied()):
        QTest.qWait(100)
    window.panels.review.select(0)
    QTest.qWait(1500)
    ok = window.grab().save(output)
    hint = window.minimumSizeHint()
    model_index = window.gallery_model.index(0)
    print(
        json.dumps(
            {
                "saved": ok,
                "size": [window.width(), window.height()],
                "minimum": [hint.width(), hint.height()],
                "gallery": window.gallery_model.rowCount(),
                "first_label": window.gallery_model.data(model_index),
                "panel": [window.panels.classification.state.kind,
                          window.panels.classification.state_label.text()],
                "tally_wbc": tallied(),
                "clipped": clipped_labels(window),
            },
            ensure_ascii=False,
        )
    )
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:6]))  # MODEL_DIR is optional
