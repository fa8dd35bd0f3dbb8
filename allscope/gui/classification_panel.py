"""The classification panel: per-class bars, P(ALL) against the threshold, the state in words,
and a flag indicator that stays lit for a few seconds so that it never flickers. Fields outside
the model's experience (which it abstains on and never flags) are named as such; the status
bar counts them."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QFormLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from allscope.core.ood import OUTSIDE
from allscope.core.results import FieldResult

FLAG_HOLD_S = 3.0
ALL_RED = QColor(200, 40, 40)
CALM_GREEN = QColor(40, 140, 70)
OUTSIDE_WORDS = "Outside the model's experience"


def describe_state(result: FieldResult | None, classified: FieldResult | None, threshold: float,
                   has_model: bool = True, benign_class: str = "Benign") -> str:
    """The field's state in words, as the user should read it at a glance."""
    if result is None:
        return "Waiting for frames"
    if result.wbc_count == 0:
        return "No cells in view"
    if not result.assessable:
        if OUTSIDE in result.reasons:
            return OUTSIDE_WORDS
        return (
            f"Not assessable — {'; '.join(result.reasons)}" if result.reasons else "Not assessable"
        )
    if not has_model:
        return f"{result.wbc_count} white cell(s); not classified (no model)"
    if classified is None or classified.p_all is None:
        return "Classifying…"
    if OUTSIDE in classified.reasons:
        return OUTSIDE_WORDS  # the model abstained: its probabilities are kept, not acted on
    if classified.p_all < threshold:
        return "Benign"
    subtype = _most_likely_all_class(classified, benign_class)
    return f"Suspicious for ALL → most likely {subtype}" if subtype else "Suspicious for ALL"


def _most_likely_all_class(result: FieldResult, benign_class: str) -> str | None:
    probs = result.probability_map() or {}
    candidates = {k: v for k, v in probs.items() if k != benign_class}
    return max(candidates, key=candidates.__getitem__) if candidates else None


class ThresholdBar(QWidget):
    """A horizontal bar for P(ALL) with a tick at the threshold; red above it, green below."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.value: float | None = None
        self.threshold = 0.5
        self.setMinimumSize(160, 26)

    def set_values(self, value: float | None, threshold: float) -> None:
        if (value, threshold) != (self.value, self.threshold):
            self.value, self.threshold = value, threshold
            self.update()

    def paintEvent(self, event) -> None:  # Qt's name
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        painter.fillRect(rect, QColor(235, 235, 235))
        if self.value is not None:
            colour = ALL_RED if self.value >= self.threshold else CALM_GREEN
            painter.fillRect(
                QRectF(rect.left(), rect.top(), rect.width() * self.value, rect.height()), colour
            )
        x = rect.left() + rect.width() * self.threshold
        painter.setPen(QPen(QColor(20, 20, 20), 2))
        painter.drawLine(int(x), int(rect.top()), int(x), int(rect.bottom()))
        text = (
            "P(ALL) —"
            if self.value is None
            else f"P(ALL) {self.value:.2f}  (threshold {self.threshold:.2f})"
        )
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(rect.adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()


class ClassificationPanel(QWidget):
    """Shows one snapshot's conclusion; call ``show_result`` from the display timer."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.threshold = 0.5
        self.has_model = True
        self.benign_class = "Benign"
        self._flag_until = 0.0
        self._bars: dict[str, QProgressBar] = {}
        self.state_label = QLabel("Waiting for frames", self)
        self.state_label.setWordWrap(True)
        self.state_label.setStyleSheet("font-size: 15pt; font-weight: bold;")
        self.flag_label = QLabel("", self)
        self.flag_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.flag_label.setMinimumHeight(30)
        self.wbc_label = QLabel("White cells in view: —", self)
        self.p_bar = ThresholdBar(self)
        self._form = QFormLayout()
        layout = QVBoxLayout(self)
        for widget in (self.flag_label, self.state_label, self.wbc_label, self.p_bar):
            layout.addWidget(widget)
        layout.addLayout(self._form)
        layout.addStretch(1)
        self._set_flag_lit(False)

    @property
    def flag_lit(self) -> bool:
        return self._flag_lit

    def set_classes(self, classes: tuple[str, ...]) -> None:
        """Rebuild the per-class bars (a new model may name other classes)."""
        while self._form.rowCount():
            self._form.removeRow(0)
        self._bars = {}
        for name in classes:
            bar = QProgressBar(self)
            bar.setRange(0, 1000)
            bar.setTextVisible(True)
            bar.setFormat("—")
            self._bars[name] = bar
            self._form.addRow(name, bar)

    def note_flag(self, now: float) -> None:
        """A flag was raised: light the indicator for at least ``FLAG_HOLD_S`` seconds."""
        self._flag_until = max(self._flag_until, now + FLAG_HOLD_S)

    def show_result(
        self, result: FieldResult | None, classified: FieldResult | None, now: float
    ) -> None:
        if result is not None and result.flagged:
            self.note_flag(now)
        self.state_label.setText(describe_state(
            result, classified, self.threshold, self.has_model, self.benign_class))
        self.wbc_label.setText(
            f"White cells in view: {'—' if result is None else result.wbc_count}"
        )
        probs = classified.probability_map() if classified is not None else None
        for name, bar in self._bars.items():
            p = None if probs is None else probs.get(name)
            bar.setValue(0 if p is None else int(round(p * 1000)))
            bar.setFormat("—" if p is None else f"{p:.2f}")
        self.p_bar.set_values(None if classified is None else classified.p_all, self.threshold)
        self._set_flag_lit(now < self._flag_until)

    def _set_flag_lit(self, lit: bool) -> None:
        if getattr(self, "_flag_lit", None) == lit:
            return
        self._flag_lit = lit
        if lit:
            self.flag_label.setText("⚑ FLAGGED: suspicious field captured")
            self.flag_label.setStyleSheet(
                "background: #c82828; color: white; font-weight: bold; border-radius: 4px;"
            )
        else:
            self.flag_label.setText("No flag")
            self.flag_label.setStyleSheet("background: #e6e6e6; color: #555; border-radius: 4px;")
