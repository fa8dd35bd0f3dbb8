"""The Cells dock: the slide tally (live, or the session's with its reviews applied) above the
cell gallery of the current session. Built once a cell package is in use."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from allscope.core.cells.tally import Tally
from allscope.core.store import SessionStore
from allscope.gui.cell_gallery import CellGallery
from allscope.gui.tally_panel import TallyPanel

SESSION_TALLY_S = 5.0  # the session's tally is re-read from the store at most this often
GALLERY_MIN_PX = 220  # the cell list keeps room for three crops when the dock scrolls


class CellReviewDock(QDockWidget):
    """``show_session(id)`` fills the gallery; ``show_live(tally)`` updates the tally between."""

    def __init__(self, window: QMainWindow, store: SessionStore, classes: tuple[str, ...],
                 reviewer: str = "") -> None:
        super().__init__("Cells: tally and review", window)
        self.setObjectName("CellsDock")
        self.store = store
        self.session_id: int | None = None
        self._read_at = float("-inf")  # when the session's tally was last read from the store
        self.tally = TallyPanel(self)
        self.gallery = CellGallery(store, classes, reviewer, self)
        reload = QPushButton("Show the session's saved cells", self)
        reload.clicked.connect(self.gallery.refresh)
        self.adapt_button = QPushButton("Adapt to this microscope…", self)
        self.adapt_button.setToolTip("Fit the blast decision to this lab from reviewed cells")
        self.gallery.changed.connect(self._show_session_tally)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.addWidget(self.tally)
        layout.addWidget(reload)
        layout.addWidget(self.adapt_button)
        layout.addWidget(self.gallery, 1)
        for button in (reload, self.adapt_button):  # Space stays the window's capture key
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.gallery.tree.setMinimumHeight(GALLERY_MIN_PX)
        scroll = QScrollArea(self)  # scrolls rather than force the window's height (1366×768)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        scroll.setMinimumWidth(body.minimumSizeHint().width() + 24)
        self.setWidget(scroll)
        window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self)

    def show_session(self, session_id: int | None) -> None:
        self.session_id = session_id
        self.gallery.show_session(session_id)
        self._show_session_tally()

    def show_live(self, tally: Tally | None) -> None:
        """The live tally while no session is current (a session's own tally has its reviews).

        The session's tally is a query over all its saved cells: it is re-read when a field
        was stored (``stored``) and otherwise at most every ``SESSION_TALLY_S``, so a long
        session never loads the GUI thread with it."""
        if self.session_id is None and tally is not None:
            self.tally.show_tally(tally)
        elif self.session_id is not None and time.monotonic() - self._read_at > SESSION_TALLY_S:
            self._show_session_tally()

    def stored(self) -> None:
        """A field (with its cells) was saved: the next ``show_live`` re-reads the tally."""
        self._read_at = float("-inf")

    def _show_session_tally(self) -> None:
        if self.session_id is not None:
            self._read_at = time.monotonic()
            self.tally.show_tally(self.store.cell_tally(self.session_id))
