"""Menu entries of the workstation: Help (shortcut sheet, user guide), the laboratory logo for
reports and the microscope scale (Session menu); the scale reaches every view's scale bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMenu

from allscope.app.settings import Settings
from allscope.gui.banner import ErrorBanner
from allscope.gui.field_viewer import FieldViewer
from allscope.gui.help_dialogs import GUIDE, HelpDialog, shortcuts_html
from allscope.gui.live_view import LiveView
from allscope.gui.scale_bar import ask_scale


class WorkstationMenu:
    """Adds its entries to the window's Help and Session menus and keeps the scale applied."""

    def __init__(
        self,
        window: QMainWindow,
        menus: dict[str, QMenu],
        settings: Settings,
        save_settings: Callable[[], object],
        banner: ErrorBanner,
        views: tuple[LiveView, FieldViewer],
        on_logo: Callable[[Path | None], None],
    ) -> None:
        self.window, self.settings, self.save_settings = window, settings, save_settings
        self.on_logo = on_logo
        self.banner, self.views = banner, views
        self.dialog: HelpDialog | None = None
        help_menu = menus["help"]
        first = help_menu.actions()[0] if help_menu.actions() else None
        shortcuts = help_menu.addAction("&Keyboard shortcuts")
        shortcuts.setShortcut(QKeySequence(Qt.Key.Key_F1))
        shortcuts.triggered.connect(lambda: self.show_help("Keyboard shortcuts", shortcuts_html()))
        guide = help_menu.addAction("&User guide")
        guide.triggered.connect(lambda: self.show_help("User guide", GUIDE))
        if first is not None:  # About stays last
            help_menu.removeAction(first)
            help_menu.addSeparator()
            help_menu.addAction(first)
        session = menus["session"]
        session.addSeparator()
        session.addAction("Laboratory &logo for reports…").triggered.connect(self.choose_logo)
        session.addAction("Microscope &scale (µm per pixel)…").triggered.connect(self.choose_scale)
        self.apply_scale()
        on_logo(self.logo)

    def show_help(self, title: str, html: str) -> None:
        self.dialog = HelpDialog(title, html, self.window)
        self.dialog.show()

    def choose_logo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Laboratory logo for reports",
            self.settings.lab_logo,
            "Images (*.png *.jpg *.jpeg *.bmp)",
        )
        if path:
            self.settings.lab_logo = path
            self.save_settings()
            self.on_logo(self.logo)

    def choose_scale(self) -> None:
        chosen = ask_scale(self.window, self.settings, self.banner)
        if chosen is not None:
            self.settings.objective, value = chosen
            self.settings.microns_per_pixel[self.settings.objective] = value
            self.save_settings()
            self.apply_scale()

    def apply_scale(self) -> None:
        value = self.settings.microns_per_pixel.get(self.settings.objective)
        live, viewer = self.views
        live.microns_per_pixel = value
        viewer.microns_per_pixel = value
        viewer.viewport().update()

    @property
    def logo(self) -> Path | None:
        return Path(self.settings.lab_logo) if self.settings.lab_logo else None
