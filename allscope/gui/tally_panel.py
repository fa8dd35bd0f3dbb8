"""The slide tally panel: white cells per type, blasts with a 95% interval, and progress toward
the target count, like a manual differential."""

from __future__ import annotations

from PySide6.QtWidgets import QFormLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from allscope.app.cell_review import progress_text, tally_lines
from allscope.core.cells.tally import Tally

COUNT_NOTE = (
    "Each white cell is counted once per slide, when it is seen whole; a cell cut by the edge "
    "of the view is judged in its field but counted when the stage brings it fully in view."
)


class TallyPanel(QWidget):
    """``show_tally(tally)`` redraws it; rows are rebuilt only when the types change."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self._form = QFormLayout()
        self._values: dict[str, QLabel] = {}
        # the field's verdict (Classification) judges every cell in view; the slide's count
        # takes each cell once, when seen whole: the two can differ for a cell at the edge
        self.note = QLabel(COUNT_NOTE, self)
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(mid);")
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addLayout(self._form)
        layout.addWidget(self.note)
        layout.addStretch(1)
        self.tally: Tally | None = None
        self.show_tally(Tally(0, 0))

    def show_tally(self, tally: Tally) -> None:
        self.tally = tally
        self.progress.setRange(0, max(1, tally.target))
        self.progress.setValue(min(tally.wbc, tally.target))
        self.progress.setFormat(progress_text(tally))
        rows = tally_lines(tally)
        if [name for name, _ in rows] != list(self._values):
            while self._form.rowCount():
                self._form.removeRow(0)
            self._values = {name: QLabel(self) for name, _ in rows}
            for name, label in self._values.items():
                self._form.addRow(name, label)
        for name, text in rows:
            self._values[name].setText(text)

    def text(self, row: str) -> str:
        return self._values[row].text()
