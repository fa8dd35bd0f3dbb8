"""Camera controls: exposure, gain, white balance (auto or manual), resolution.

Each row shows what the driver granted, read back after every change, never what was
asked. Controls the driver does not support are disabled with a tooltip saying so; for a
source that is not a camera the whole panel is disabled.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QWidget,
)

VALUE_CONTROLS = {"exposure": "Exposure", "gain": "Gain", "white_balance": "White balance (K)"}
AUTO_OF = {"exposure": "auto_exposure", "white_balance": "auto_white_balance"}
RESOLUTIONS = ((640, 480), (1280, 720), (1920, 1080), (2592, 1944), (3840, 2160))
NOT_A_CAMERA = "This source is not a camera; controls apply to cameras only."


def unsupported_tip(label: str) -> str:
    return f"The camera driver does not support {label.lower()}; it cannot be set from here."


class CameraControls(QWidget):
    """Edits a camera's controls through its ``set_control``; emits what the driver took."""

    control_changed = Signal(str, object)  # control name, value (float, or bool for auto modes)
    resolution_requested = Signal(int, int)
    error = Signal(str, str)  # what happened, what to do

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.source = None
        self.spins: dict[str, QDoubleSpinBox] = {}
        self.autos: dict[str, QCheckBox] = {}
        self.granted: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        for row, (name, label) in enumerate(VALUE_CONTROLS.items()):
            grid.addWidget(QLabel(label, self), row, 0)
            spin = self.spins[name] = QDoubleSpinBox(self)
            spin.setRange(-1e6, 1e6)
            spin.setDecimals(2)
            spin.setKeyboardTracking(False)
            spin.valueChanged.connect(lambda value, n=name: self._changed(n, float(value)))
            grid.addWidget(spin, row, 1)
            if name in AUTO_OF:
                box = self.autos[name] = QCheckBox("auto", self)
                box.toggled.connect(lambda on, n=name: self._auto_toggled(n, on))
                grid.addWidget(box, row, 2)
            self.granted[name] = QLabel("—", self)
            grid.addWidget(self.granted[name], row, 3)
        row = len(VALUE_CONTROLS)
        grid.addWidget(QLabel("Resolution", self), row, 0)
        self.resolution = QComboBox(self)
        for width, height in RESOLUTIONS:
            self.resolution.addItem(f"{width} × {height}", (width, height))
        grid.addWidget(self.resolution, row, 1)
        self.apply_resolution = QPushButton("Apply", self)
        self.apply_resolution.clicked.connect(self._request_resolution)
        grid.addWidget(self.apply_resolution, row, 2)
        self.granted_resolution = QLabel("—", self)
        grid.addWidget(self.granted_resolution, row, 3)
        self._updating = False
        self.set_source(None)

    def set_source(self, source) -> None:
        """Attach to a source; a source without ``controls()`` disables every control."""
        self.source = source if callable(getattr(source, "controls", None)) else None
        self.refresh()

    def refresh(self) -> None:
        """Re-read the driver's values and show them (after a change, or now and then)."""
        controls = self._read_controls()
        self._updating = True
        try:
            for name, label in VALUE_CONTROLS.items():
                self._show_control(name, label, controls.get(name))
            self._show_resolution()
        finally:
            self._updating = False

    def _read_controls(self) -> dict:
        if self.source is None:
            return {}
        try:
            return dict(self.source.controls())
        except Exception:  # a lost camera has no controls; the banner says why
            return {}

    def _show_control(self, name: str, label: str, info) -> None:
        spin, granted, box = self.spins[name], self.granted[name], self.autos.get(name)
        supported = info is not None and info.supported
        tip = NOT_A_CAMERA if self.source is None else ("" if supported else unsupported_tip(label))
        for widget in (spin, granted, box):
            if widget is not None:
                widget.setEnabled(supported)
                widget.setToolTip(tip)
        if not supported:
            granted.setText("not supported" if self.source is not None else "—")
            return
        if info.value is not None:
            spin.setValue(float(info.value))
        granted.setText("—" if info.value is None else f"granted {info.value:g}")
        if box is not None:
            box.setChecked(bool(info.auto))
            spin.setEnabled(not info.auto)
            if info.auto:
                granted.setText("auto")

    def _show_resolution(self) -> None:
        granted = self._granted().get("resolution")
        enabled = self.source is not None
        for widget in (self.resolution, self.apply_resolution):
            widget.setEnabled(enabled)
            widget.setToolTip("" if enabled else NOT_A_CAMERA)
        self.granted_resolution.setText(
            "—" if not granted else f"granted {granted[0]} × {granted[1]}"
        )

    def _granted(self) -> dict:
        granted = getattr(self.source, "granted", None)
        try:
            return dict(granted()) if callable(granted) else {}
        except Exception:
            return {}

    def _changed(self, name: str, value) -> None:
        """Ask the driver for ``value``, then show what it granted."""
        if self._updating or self.source is None:
            return
        try:
            self.source.set_control(name, value)
        except Exception as exc:  # the driver refused; the value shown is the real one
            self.error.emit(f"The camera refused {name.replace('_', ' ')} = {value} ({exc}).",
                            "The value shown is what the camera uses; try another value.")
        else:
            self.control_changed.emit(name, value)
        self.refresh()

    def _auto_toggled(self, name: str, on: bool) -> None:
        self._changed(AUTO_OF[name], bool(on))

    def _request_resolution(self) -> None:
        width, height = self.resolution.currentData()
        self.resolution_requested.emit(width, height)
