"""The main window's docks and status bar: which panel goes where, and what each is wired to."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QComboBox, QDockWidget, QScrollArea

from allscope.gui.camera_panel import CameraControls
from allscope.gui.classification_panel import ClassificationPanel
from allscope.gui.live_view import MODES
from allscope.gui.plots import RollingPlots
from allscope.gui.policy_panel import PolicyPanel
from allscope.gui.review_pane import ReviewPanel
from allscope.gui.status import StatusBar

MODE_NAMES = {"raw": "Raw field", "overlay": "WBC outlines", "masked": "Masked field"}


def _dock(window, title: str, name: str, widget, area, scroll: bool = False) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(name)  # saveState/restoreState find docks by name
    if scroll:
        area_widget = QScrollArea(dock)
        area_widget.setWidgetResizable(True)
        area_widget.setWidget(widget)
        widget = area_widget
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def build_docks(window) -> None:
    """Create the panels as attributes of ``window`` and put them in docks (``window.docks``)."""
    right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
    window.panel = ClassificationPanel(window)
    window.camera_controls = CameraControls(window)
    window.policy_panel = PolicyPanel(window.settings.policy, window.settings.session_info, window)
    window.plots = RollingPlots(window.settings.plot_seconds, parent=window)
    window.review = ReviewPanel(window.gallery_model, window.store, window)
    window.docks = {
        "classification": _dock(
            window, "Classification", "ClassificationDock", window.panel, right
        ),
        "camera": _dock(window, "Camera", "CameraDock", window.camera_controls, right, scroll=True),
        "policy": _dock(
            window, "Flag policy and session", "PolicyDock", window.policy_panel, right, scroll=True
        ),
        "gallery": _dock(window, "Flagged fields", "GalleryDock", window.review, bottom),
        "plots": _dock(window, "Plots", "PlotsDock", window.plots, bottom),
    }
    window.tabifyDockWidget(window.docks["camera"], window.docks["policy"])
    window.docks["camera"].raise_()
    window.splitDockWidget(
        window.docks["gallery"], window.docks["plots"], Qt.Orientation.Horizontal
    )
    window.resizeDocks([window.docks["gallery"]], [300], Qt.Orientation.Vertical)
    window.resizeDocks(
        [window.docks["gallery"], window.docks["plots"]], [700, 700], Qt.Orientation.Horizontal
    )
    window.status_bar = StatusBar(window)
    window.setStatusBar(window.status_bar)
    window.policy_panel.policy_changed.connect(window.set_policy)
    window.policy_panel.session_changed.connect(window.set_session_info)
    window.camera_controls.control_changed.connect(window.remember_camera_control)
    window.camera_controls.error.connect(
        lambda what, todo: window.banner.show_message(what, todo, key="camera-control")
    )
    window.review.error.connect(
        lambda what, todo: window.banner.show_message(what, todo, key="review")
    )
    window.camera_controls.resolution_requested.connect(window.request_resolution)


def build_actions(window) -> None:
    """Menus, the toolbar and the keyboard shortcuts (Space captures, F fits, Ctrl+O opens)."""
    menu = window.menuBar()
    file_menu = menu.addMenu("&File")
    window.open_action = file_menu.addAction(
        "&Open source…", QKeySequence.StandardKey.Open, window.choose_source
    )
    file_menu.addAction("&Quit", QKeySequence.StandardKey.Quit, window.close)
    view_menu = menu.addMenu("&View")
    window.fit_action = view_menu.addAction(
        "&Fit field to window", QKeySequence("F"), window.live_view.fit
    )
    for dock in window.docks.values():
        view_menu.addAction(dock.toggleViewAction())
    window.capture_action = QAction("&Capture field", window)
    window.capture_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
    window.capture_action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    window.capture_action.triggered.connect(window.capture_current)
    menu.addMenu("&Capture").addAction(window.capture_action)
    build_session_menu(window, menu.addMenu("&Session"))
    menu.addMenu("&Help").addAction("&About allscope", window.show_about)
    toolbar = window.addToolBar("Live")
    toolbar.setObjectName("LiveToolbar")
    toolbar.addAction(window.open_action)
    window.mode_box = QComboBox(window)
    for mode in MODES:
        window.mode_box.addItem(MODE_NAMES[mode], mode)
    window.mode_box.setCurrentIndex(MODES.index(window.live_view.mode))
    window.mode_box.currentIndexChanged.connect(lambda i: window.set_display_mode(MODES[i]))
    toolbar.addWidget(window.mode_box)
    toolbar.addAction(window.fit_action)
    toolbar.addAction(window.capture_action)


def build_session_menu(window, session_menu) -> None:
    """New session, the sessions list, exports of the current session, End session."""
    sessions = window.sessions
    window.new_session_action = session_menu.addAction("&New session…", QKeySequence("Ctrl+N"),
                                                       sessions.new_session)
    window.sessions_action = session_menu.addAction(
        "&Sessions…", QKeySequence("Ctrl+L"), sessions.show_sessions
    )
    session_menu.addSeparator()
    window.export_actions = {
        kind: session_menu.addAction(f"Export {kind.upper()}…", lambda k=kind: sessions.export(k))
        for kind in ("pdf", "csv", "json")
    }
    session_menu.addSeparator()
    window.end_session_action = session_menu.addAction("&End session", sessions.end)

    def enable() -> None:
        active = sessions.current is not None
        for action in (*window.export_actions.values(), window.end_session_action):
            action.setEnabled(active)
        for action in (window.new_session_action, window.sessions_action):
            action.setEnabled(sessions.store is not None)

    sessions.changed.connect(enable)
    enable()
