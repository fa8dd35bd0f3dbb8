"""A QGuiApplication for report rendering when none exists (CLI, tests, scripts).

QPdfWriter and fonts need a QGuiApplication. Under the desktop app one already exists; in a
script this makes an offscreen one, so no display is required.
"""

from __future__ import annotations

import os

from PySide6.QtGui import QGuiApplication

_app: QGuiApplication | None = None


def ensure_gui_app() -> QGuiApplication:
    """The running QGuiApplication, or a new offscreen one (call from the main thread)."""
    global _app
    existing = QGuiApplication.instance()
    if existing is not None:
        if not isinstance(existing, QGuiApplication):
            raise RuntimeError(
                "Rendering a report needs a QGuiApplication, but a QCoreApplication is running; "
                "create a QGuiApplication (or QApplication) instead."
            )
        return existing
    if not os.environ.get("QT_QPA_PLATFORM") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # A QApplication (a QGuiApplication that also allows widgets), so that code running later
    # in the same process, such as the GUI or its tests, can still create widgets.
    from PySide6.QtWidgets import QApplication

    _app = QApplication(["allscope-report"])
    return _app
