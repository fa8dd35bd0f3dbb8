"""The main window's parts: its panels in docks, and its menus, toolbar and shortcuts.

``build_panels`` and ``build_actions`` create the parts and hand them back as typed records
(``Panels``, ``Actions``); the window keeps them and makes every connection itself, so what
each part is wired to is read in one place (``MainWindow._connect``).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QMainWindow,
    QMenu,
    QScrollArea,
    QToolBar,
    QWidget,
)

from allscope.app.field_store import FieldStore
from allscope.app.settings import Settings
from allscope.gui.camera_panel import CameraControls
from allscope.gui.classification_panel import ClassificationPanel
from allscope.gui.gallery import GalleryModel
from allscope.gui.live_view import MODES
from allscope.gui.plots import RollingPlots
from allscope.gui.policy_panel import PolicyPanel
from allscope.gui.review_pane import ReviewPanel

MODE_NAMES = {"raw": "Raw field", "overlay": "WBC outlines", "masked": "Masked field"}
EXPORT_KINDS = ("pdf", "csv", "json")


@dataclass(frozen=True)
class Panels:
    """The docked panels, and the docks by name (their object names persist the layout)."""

    classification: ClassificationPanel
    camera: CameraControls
    policy: PolicyPanel
    plots: RollingPlots
    review: ReviewPanel
    docks: dict[str, QDockWidget]


@dataclass(frozen=True)
class Actions:
    """Menu and toolbar entries; the window connects each to what it does."""

    open_source: QAction
    quit: QAction
    fit: QAction
    capture: QAction
    about: QAction
    new_session: QAction
    sessions: QAction
    export: dict[str, QAction]  # by kind: "pdf", "csv", "json"
    end_session: QAction
    mode_box: QComboBox  # the display mode, in the toolbar
    toolbar: QToolBar
    menus: dict[str, QMenu]  # "file", "view", "capture", "session", "help"


def _dock(
    window: QMainWindow,
    title: str,
    name: str,
    widget: QWidget,
    area: Qt.DockWidgetArea,
    scroll: bool = False,
) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(name)  # saveState/restoreState find docks by name
    if scroll:
        area_widget = QScrollArea(dock)
        area_widget.setWidgetResizable(True)
        area_widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area_widget.setMinimumWidth(widget.minimumSizeHint().width() + 24)  # scrolls down only
        area_widget.setWidget(widget)
        widget = area_widget
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def build_panels(
    window: QMainWindow, settings: Settings, gallery: GalleryModel, store: FieldStore
) -> Panels:
    """Create the panels and put them in docks: results and settings right, gallery below."""
    right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
    classification = ClassificationPanel(window)
    camera = CameraControls(window)
    policy = PolicyPanel(settings.policy, settings.session_info, window)
    plots = RollingPlots(settings.plot_seconds, parent=window)
    review = ReviewPanel(gallery, store, window)
    docks = {
        "classification": _dock(
            window, "Classification", "ClassificationDock", classification, right, scroll=True
        ),  # scrolls rather than force the height
        "camera": _dock(window, "Camera", "CameraDock", camera, right, scroll=True),
        "policy": _dock(
            window, "Flag policy and session", "PolicyDock", policy, right, scroll=True
        ),
        "gallery": _dock(window, "Flagged fields", "GalleryDock", review, bottom),
        "plots": _dock(window, "Diagnostics (performance)", "DiagnosticsDock", plots, bottom),
    }
    window.tabifyDockWidget(docks["camera"], docks["policy"])
    docks["camera"].raise_()
    window.splitDockWidget(docks["gallery"], docks["plots"], Qt.Orientation.Horizontal)
    window.resizeDocks([docks["gallery"]], [260], Qt.Orientation.Vertical)
    window.resizeDocks([docks["gallery"], docks["plots"]], [700, 700], Qt.Orientation.Horizontal)
    window.resizeDocks(
        [docks["classification"], docks["camera"]], [600, 250], Qt.Orientation.Vertical
    )
    window.resizeDocks([docks["classification"]], [400], Qt.Orientation.Horizontal)
    docks["plots"].hide()  # for engineers: View ▸ Diagnostics shows it
    return Panels(classification, camera, policy, plots, review, docks)


def build_actions(window: QMainWindow, docks: dict[str, QDockWidget], mode: str) -> Actions:
    """Menus, the toolbar and the shortcuts (Space captures, F fits, Ctrl+O opens, Ctrl+N, Ctrl+L).

    Nothing is connected here but the docks' own show/hide actions in the View menu.
    """
    bar = window.menuBar()
    menus = {
        key: bar.addMenu(title)
        for key, title in (
            ("file", "&File"),
            ("view", "&View"),
            ("capture", "&Capture"),
            ("session", "&Session"),
            ("help", "&Help"),
        )
    }
    open_source = menus["file"].addAction("&Open source…")
    open_source.setShortcut(QKeySequence.StandardKey.Open)
    quit_action = menus["file"].addAction("&Quit")
    quit_action.setShortcut(QKeySequence.StandardKey.Quit)
    fit = menus["view"].addAction("&Fit field to window")
    fit.setShortcut(QKeySequence("F"))
    for dock in docks.values():
        menus["view"].addAction(dock.toggleViewAction())
    capture = menus["capture"].addAction("&Capture field")
    capture.setShortcut(QKeySequence(Qt.Key.Key_Space))
    capture.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    session = menus["session"]
    new_session = session.addAction("&New session…")
    new_session.setShortcut(QKeySequence("Ctrl+N"))
    sessions = session.addAction("&Sessions…")
    sessions.setShortcut(QKeySequence("Ctrl+L"))
    session.addSeparator()
    export = {kind: session.addAction(f"Export {kind.upper()}…") for kind in EXPORT_KINDS}
    session.addSeparator()
    end_session = session.addAction("&End session")
    about = menus["help"].addAction("&About allscope")
    toolbar = window.addToolBar("Live")
    toolbar.setObjectName("LiveToolbar")  # saveState/restoreState find toolbars by name
    mode_box = QComboBox(window)
    for name in MODES:
        mode_box.addItem(MODE_NAMES[name], name)
    mode_box.setCurrentIndex(MODES.index(mode))
    toolbar.addAction(open_source)
    toolbar.addWidget(mode_box)
    toolbar.addAction(fit)
    toolbar.addAction(capture)
    return Actions(
        open_source,
        quit_action,
        fit,
        capture,
        about,
        new_session,
        sessions,
        export,
        end_session,
        mode_box,
        toolbar,
        menus,
    )
