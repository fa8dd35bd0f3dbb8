"""The microscope controls: colour calibration, normalisation, quality limits, indicators.

``MicroscopeControls`` adds a "Microscope" menu (and a toolbar button) with "Calibrate on a blank
area" and the normalisation switch, wires the policy panel's field-quality editors to the
settings, configures every live controller before it starts (``attach``), and shows the
colour drift and the outside count in the status bar when the window's housekeeping timer
calls ``refresh``. It owns no timer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenuBar, QToolBar, QWidget

from allscope.app.live_run import LiveController
from allscope.app.settings import Settings, quality_settings
from allscope.core.colour.calibration import CalibrationError
from allscope.gui.banner import ErrorBanner
from allscope.gui.policy_panel import PolicyPanel
from allscope.gui.status import StatusBar, TrustValues

CALIBRATE_TODO = "Move the stage to an empty, evenly lit part of the slide and calibrate again."


class MicroscopeControls(QObject):
    """Owns the calibration action; keeps the live controller's quality and colour settings."""

    def __init__(
        self, parent: QWidget, settings: Settings, config_dir: Path, banner: ErrorBanner,
        status_bar: StatusBar, policy_panel: PolicyPanel, save_settings: Callable[[], None],
        menu_bar: QMenuBar, toolbar: QToolBar,
    ) -> None:
        super().__init__(parent)
        self.settings, self.config_dir, self.save_settings = settings, config_dir, save_settings
        self.banner, self.status_bar, self.policy_panel = banner, status_bar, policy_panel
        self.controller: LiveController | None = None
        self._outside_before = 0  # fields counted by controllers of earlier sources
        self.calibrate_action = QAction("Calibrate on a &blank area", parent)
        self.calibrate_action.setToolTip(
            "Take the current frame of an empty, lit slide area as this "
            "camera's white reference (saved per camera)."
        )
        self.calibrate_action.triggered.connect(self.calibrate)
        self.normalize_action = QAction("&Normalise colours", parent, checkable=True)
        self.normalize_action.setChecked(settings.normalize_colour)
        self.normalize_action.toggled.connect(self.set_normalization)
        menu = menu_bar.addMenu("&Microscope")
        menu.addAction(self.calibrate_action)
        menu.addAction(self.normalize_action)
        toolbar.addAction(self.calibrate_action)
        policy_panel.set_quality(settings.quality, settings.normalize_colour)
        policy_panel.quality_changed.connect(self.set_quality)
        policy_panel.normalization_changed.connect(self.set_normalization)

    @property
    def outside(self) -> int:
        """Fields outside the model's experience since the window opened."""
        return self._outside_before + (self.controller.outside.count if self.controller else 0)

    def attach(self, controller: LiveController) -> None:
        """Give a new live controller the saved gate limits and normaliser (before it starts)."""
        if controller is self.controller:
            return
        if self.controller is not None:
            self._outside_before += self.controller.outside.count
        self.controller = controller
        quality, warning = quality_settings(self.settings.quality)
        if warning:
            self.banner.show_message(
                warning, "Correct the field-quality limits in the policy panel.", "warning",
                key="quality",
            )
        controller.set_quality(quality)
        controller.set_normalization(self.settings.normalize_colour, self.config_dir)

    def calibrate(self) -> bool:
        """Take the white reference from the current raw frame; False (with a banner) if refused."""
        banner = self.banner
        if self.controller is None:
            banner.show_message("There is no live image to calibrate on.", "Open a source first.",
                                "warning", key="calibration")
            return False
        try:
            reference = self.controller.calibrate(self.config_dir)
        except CalibrationError as exc:
            banner.show_message(
                f"Calibration refused: {exc}", CALIBRATE_TODO, "warning", key="calibration"
            )
            return False
        except OSError as exc:
            banner.show_message(
                f"The white reference could not be saved in {self.config_dir} ({exc}).",
                "Check that the settings folder is writable.", key="calibration",
            )
            return False
        banner.dismiss("calibration")
        note = "" if self.settings.normalize_colour else " (colour normalisation is off)"
        self.status_bar.showMessage(
            f"White reference saved for {reference.camera}{note}.", 8000
        )
        return True

    def set_quality(self, data: dict) -> None:
        """Apply and save new gate limits; invalid ones are refused with a banner."""
        quality, warning = quality_settings(data)
        if warning:
            self.banner.show_message(
                warning.replace("saved ", ""), "Correct the value.", "warning", key="quality"
            )
            return
        self.banner.dismiss("quality")
        self.settings.quality = quality.to_dict()
        self.save_settings()
        if self.controller is not None:
            self.controller.set_quality(quality)

    def set_normalization(self, enabled: bool) -> None:
        settings = self.settings
        if settings.normalize_colour == enabled:
            return
        settings.normalize_colour = enabled
        self.normalize_action.setChecked(enabled)
        self.policy_panel.set_quality({}, enabled)
        self.save_settings()
        if self.controller is not None:
            self.controller.set_normalization(enabled, self.config_dir)

    def refresh(self, controller: LiveController | None) -> None:
        """Show drift and outside count of the running ``controller`` (adopted if not attached)."""
        if controller is not None and controller is not self.controller:
            self.attach(controller)
        normalizer = None if self.controller is None else self.controller.normalizer
        values = TrustValues(
            normalizing=normalizer is not None and normalizer.enabled,
            calibrated=normalizer is not None and normalizer.calibrated,
            drift=None if normalizer is None else normalizer.drift, outside=self.outside,
        )
        self.status_bar.show_trust(values)
