"""Python's cyclic garbage collector runs on the GUI thread while a window is open.

Automatic collection runs in whichever thread happens to allocate past the threshold. When
that is a worker thread (capture, processing, the field writer) and the cycle it collects holds
a Qt object, the object's C++ destructor runs on that thread: it locks Qt's object mutexes and
then waits for the GIL, while the GUI thread, deleting another Qt object, holds the GIL and
waits for those mutexes. Both threads stop for good: the window freezes mid-session.

So while a window lives, automatic collection is off and a timer on the GUI thread collects
with the interpreter's own thresholds and generations. Reference counting, which frees almost
everything, is unchanged; only cycles wait for the next tick.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 250

_active = 0  # collectors running: automatic collection is back on when the last one stops


class GuiThreadCollector(QObject):
    """Owns the GUI-thread collection for one window; ``stop`` hands collection back."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        global _active
        self._thresholds = gc.get_threshold()
        self._running = True
        _active += 1
        gc.disable()
        self._timer = QTimer(self)
        self._timer.timeout.connect(self.collect)
        self._timer.start(INTERVAL_MS)

    def collect(self) -> int:
        """Collect the generation that the interpreter would have collected; returns it, or -1."""
        first, second, third = self._thresholds
        young, middle, old = gc.get_count()
        if young <= first:
            return -1
        generation = 2 if (middle > second and old > third) else 1 if middle > second else 0
        gc.collect(generation)
        return generation

    def stop(self) -> None:
        """After the window's threads have stopped: automatic collection again. Idempotent."""
        global _active
        if not self._running:
            return
        self._running = False
        self._timer.stop()
        _active -= 1
        if _active == 0:
            gc.enable()
