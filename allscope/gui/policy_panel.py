"""The flag policy (threshold, dwell length, hysteresis), the field-quality limits and colour
normalisation, and the session's information fields."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from allscope.core.quality import QualitySettings

SESSION_FIELDS = {
    "patient_id": "Patient or sample ID",
    "slide_id": "Slide ID",
    "operator": "Operator",
    "lab": "Laboratory",
}
# Gate thresholds editable here: key -> (label, maximum, step, decimals, tooltip)
QUALITY_FIELDS = {
    "min_sharpness": (
        "Focus, at least", 1.0, 0.01, 3,
        "Focus score (0-1) around the white cells below which a field is out of focus.",
    ),
    "max_highlights": (
        "Clipped white, at most", 1.0, 0.01, 3,
        "Fraction of pixels clipped white above which a field is over-exposed.",
    ),
    "max_shadows": (
        "Clipped black, at most", 1.0, 0.01, 3,
        "Fraction of pixels clipped black above which a field is under-exposed.",
    ),
    "min_background": (
        "Background level, at least", 255.0, 5.0, 0,
        "Brightness (0-255) of the lit background below which a field is under-exposed.",
    ),
}


class PolicyPanel(QWidget):
    """Edits a policy dict (``FlagPolicy.to_dict()`` keys) and the session fields."""

    policy_changed = Signal(dict)
    session_changed = Signal(dict)
    quality_changed = Signal(dict)  # the full QualitySettings dict
    normalization_changed = Signal(bool)

    def __init__(self, policy: dict, session_info: dict, parent=None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.threshold = QDoubleSpinBox(self)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setToolTip("A field is flagged when P(ALL) reaches this value.")
        self.consecutive = QSpinBox(self)
        self.consecutive.setRange(1, 100)
        self.consecutive.setToolTip(
            "Classified frames in a row above the threshold before a flag is raised."
        )
        self.release = QDoubleSpinBox(self)
        self.release.setRange(0.0, 1.0)
        self.release.setSingleStep(0.05)
        self.release.setToolTip(
            "P(ALL) must fall this far below the threshold before a new streak can start."
        )
        self.require_still = QCheckBox("only while the stage is still", self)
        for label, widget in (
            ("Flag threshold", self.threshold), ("Frames in a row", self.consecutive),
            ("Hysteresis", self.release), ("Flag", self.require_still),
        ):
            form.addRow(label, widget)
        self._build_quality(form)
        self.session_edits = {key: QLineEdit(self) for key in SESSION_FIELDS}
        for key, label in SESSION_FIELDS.items():
            form.addRow(label, self.session_edits[key])
            self.session_edits[key].editingFinished.connect(self._session_edited)
        self.set_policy(policy)
        for key, edit in self.session_edits.items():
            edit.setText(str(session_info.get(key, "")))
        for widget in (self.threshold, self.release):
            widget.valueChanged.connect(self._policy_edited)
        self.consecutive.valueChanged.connect(self._policy_edited)
        self.require_still.toggled.connect(self._policy_edited)

    def _build_quality(self, form: QFormLayout) -> None:
        form.addRow(QLabel("<b>Field quality</b>", self))
        self._quality = QualitySettings().to_dict()
        self.quality_boxes: dict[str, QDoubleSpinBox] = {}
        for key, (label, maximum, step, decimals, tip) in QUALITY_FIELDS.items():
            box = QDoubleSpinBox(self)
            box.setRange(0.0, maximum)
            box.setSingleStep(step)
            box.setDecimals(decimals)
            box.setToolTip(tip)
            self.quality_boxes[key] = box
            form.addRow(label, box)
        self.normalize = QCheckBox("normalise colours to the training data", self)
        self.normalize.setToolTip(
            "Bring each frame toward the training fields' colours for the mask and the field "
            "model (with this camera's white reference once calibrated); cells are judged on "
            "the recorded colours."
        )
        form.addRow("Colour", self.normalize)
        self.set_quality(self._quality)
        for box in self.quality_boxes.values():
            box.valueChanged.connect(self._quality_edited)
        self.normalize.toggled.connect(self.normalization_changed.emit)

    def set_quality(self, quality: dict, normalize: bool | None = None) -> None:
        """Show ``quality`` (QualitySettings keys) and, if given, the normalisation switch."""
        self._quality = {**self._quality, **quality}
        widgets = (*self.quality_boxes.values(), self.normalize)
        for widget in widgets:
            widget.blockSignals(True)
        for key, box in self.quality_boxes.items():
            box.setValue(float(self._quality[key]))
        if normalize is not None:
            self.normalize.setChecked(normalize)
        for widget in widgets:
            widget.blockSignals(False)

    def quality(self) -> dict:
        return {**self._quality, **{key: box.value() for key, box in self.quality_boxes.items()}}

    def _quality_edited(self, *_) -> None:
        self.quality_changed.emit(self.quality())

    def set_policy(self, policy: dict) -> None:
        widgets = (self.threshold, self.consecutive, self.release, self.require_still)
        for widget in widgets:
            widget.blockSignals(True)
        self.threshold.setValue(float(policy.get("threshold", 0.5)))
        self.consecutive.setValue(int(policy.get("consecutive", 3)))
        self.release.setValue(float(policy.get("release", 0.1)))
        self.require_still.setChecked(bool(policy.get("require_still", True)))
        for widget in widgets:
            widget.blockSignals(False)

    def policy(self) -> dict:
        threshold = self.threshold.value()
        return {
            "threshold": threshold,
            "consecutive": self.consecutive.value(),
            "release": min(self.release.value(), threshold),
            "require_still": self.require_still.isChecked(),
        }

    def lock_identity(self, locked: bool) -> None:
        """While a session runs its identity is fixed: the fields are read-only and say why."""
        tip = "Fixed while the session runs; end the session to change it." if locked else ""
        for edit in self.session_edits.values():
            edit.setReadOnly(locked)
            edit.setToolTip(tip)
            edit.setStyleSheet("background: #eeeeee; color: #555;" if locked else "")

    def session_info(self) -> dict:
        return {key: edit.text().strip() for key, edit in self.session_edits.items()}

    def _policy_edited(self, *_) -> None:
        self.policy_changed.emit(self.policy())

    def _session_edited(self) -> None:
        self.session_changed.emit(self.session_info())
