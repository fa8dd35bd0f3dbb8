"""The flag policy (threshold, dwell length, hysteresis) and the session's information fields."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

SESSION_FIELDS = {"patient_id": "Patient or sample ID", "slide_id": "Slide ID", "operator": "Operator",
                  "lab": "Laboratory"}


class PolicyPanel(QWidget):
    """Edits a policy dict (``FlagPolicy.to_dict()`` keys) and the session fields."""

    policy_changed = Signal(dict)
    session_changed = Signal(dict)

    def __init__(self, policy: dict, session_info: dict, parent=None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.threshold = QDoubleSpinBox(self)
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setToolTip("A field is flagged when P(ALL) reaches this value.")
        self.consecutive = QSpinBox(self)
        self.consecutive.setRange(1, 100)
        self.consecutive.setToolTip("Classified frames in a row above the threshold before a flag is raised.")
        self.release = QDoubleSpinBox(self)
        self.release.setRange(0.0, 1.0)
        self.release.setSingleStep(0.05)
        self.release.setToolTip("P(ALL) must fall this far below the threshold before a new streak can start.")
        self.require_still = QCheckBox("only while the stage is still", self)
        for label, widget in (("Flag threshold", self.threshold), ("Frames in a row", self.consecutive),
                              ("Hysteresis", self.release), ("Flag", self.require_still)):
            form.addRow(label, widget)
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
        return {"threshold": threshold, "consecutive": self.consecutive.value(),
                "release": min(self.release.value(), threshold), "require_still": self.require_still.isChecked()}

    def session_info(self) -> dict:
        return {key: edit.text().strip() for key, edit in self.session_edits.items()}

    def _policy_edited(self, *_) -> None:
        self.policy_changed.emit(self.policy())

    def _session_edited(self) -> None:
        self.session_changed.emit(self.session_info())
