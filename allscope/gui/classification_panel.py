"""The live classification panel. It draws a :class:`~allscope.app.panel_state.PanelState`
and nothing else: what to show in each situation is decided in ``allscope.app.panel_state``."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QFormLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from allscope.app.panel_state import FlagAlert, PanelState, panel_state
from allscope.core.results import FieldResult

ALL_RED = QColor(200, 40, 40)
CALM_GREEN = QColor(40, 140, 70)
TONE_STYLE = {
    "neutral": "color: #333;",
    "calm": "color: #1d6b35;",
    "suspicious": "color: #b41e1e;",
    "attention": "color: #8a5a00;",
}


class ThresholdBar(QWidget):
    """P(ALL) or P(blast) (``name``) against the threshold tick; coloured only for a judged
    field."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.value: float | None = None
        self.threshold = 0.5
        self.name = "P(ALL)"
        self.setMinimumSize(160, 26)

    def set_values(self, value: float | None, threshold: float, name: str = "P(ALL)") -> None:
        if (value, threshold, name) != (self.value, self.threshold, self.name):
            self.value, self.threshold, self.name = value, threshold, name
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
            f"{self.name} not shown"
            if self.value is None
            else f"{self.name} {self.value:.2f}  (flag at {self.threshold:.2f})"
        )
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(rect.adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()


class ClassificationPanel(QWidget):
    """Shows one :class:`PanelState`; ``show_result`` builds it from the latest snapshot."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.threshold = 0.5
        self.has_model = True
        self.by_cells = False  # a cell model is in force (set by the window)
        self.benign_class = "Benign"
        self.alert = FlagAlert()
        self.state = PanelState("waiting", "Waiting for frames")
        self._bars: dict[str, QProgressBar] = {}
        self.flag_label = QLabel("", self)
        self.flag_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.flag_label.setWordWrap(True)
        self.flag_label.setStyleSheet(
            "background: #c82828; color: white; font-weight: bold; border-radius: 4px;"
            " padding: 4px;"
        )
        self.state_label = QLabel(self.state.headline, self)
        self.state_label.setWordWrap(True)
        self.detail_label = QLabel("", self)
        self.detail_label.setWordWrap(True)
        self.wbc_label = QLabel("White cells in view: —", self)
        self.p_bar = ThresholdBar(self)
        self._form = QFormLayout()
        layout = QVBoxLayout(self)
        for widget in (
            self.flag_label,
            self.state_label,
            self.detail_label,
            self.wbc_label,
            self.p_bar,
        ):
            layout.addWidget(widget)
        layout.addLayout(self._form)
        layout.addStretch(1)
        self.show_state(self.state)

    @property
    def flag_lit(self) -> bool:
        return self.state.alert is not None

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

    def note_flag(self, key: object, text: str, now: float) -> None:
        """A new flag was raised: its alert shows for a few seconds (once per flag)."""
        self.alert.raise_flag(key, text, now)

    def show_result(
        self, result: FieldResult | None, classified: FieldResult | None, now: float
    ) -> None:
        self.show_state(
            panel_state(
                result,
                classified,
                self.threshold,
                has_model=self.has_model,
                benign_class=self.benign_class,
                alert=self.alert.current(now),
                by_cells=self.by_cells,
            )
        )

    def show_state(self, state: PanelState) -> None:
        self.state = state
        self.state_label.setText(state.headline)
        self.state_label.setStyleSheet(
            "font-size: 15pt; font-weight: bold; " + TONE_STYLE[state.tone]
        )
        self.detail_label.setText(state.detail)
        self.detail_label.setVisible(bool(state.detail))
        self.wbc_label.setText(f"White cells in view: {'—' if state.wbc is None else state.wbc}")
        self.flag_label.setText(state.alert or "")
        self.flag_label.setVisible(state.alert is not None)
        for name, bar in self._bars.items():
            p = None if state.probabilities is None else state.probabilities.get(name)
            bar.setValue(0 if p is None else int(round(p * 1000)))
            bar.setFormat("—" if p is None else f"{p:.2f}")
        self._show_class_bars(not state.by_cells and state.cells is None)  # cells judge
        name, value, threshold = state.bar
        self.p_bar.set_values(value, self.threshold if threshold is None else threshold, name)

    def _show_class_bars(self, visible: bool) -> None:
        for row in range(self._form.rowCount()):
            self._form.setRowVisible(row, visible)
