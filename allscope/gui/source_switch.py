"""Switching the window's source without waiting: open in the background, swap when ready.

``open`` starts a ``SourceOpening`` on a thread while the current run goes on; the window's
housekeeping tick calls ``finish``, which, once the opening is done, stops the old run on a
helper thread and starts the new one (``start_run`` builds it, ``on_started`` updates the
window). A source that cannot be opened is explained in the banner, with the demo slide as a
fallback when nothing runs yet. Threads being stopped are kept so that shutdown can join them.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from allscope.app.live_run import LiveController
from allscope.app.settings import Settings
from allscope.app.source_opening import SourceOpening
from allscope.core.frames import FrameSource
from allscope.gui.banner import ErrorBanner
from allscope.gui.status import StatusBar

log = logging.getLogger(__name__)
CAMERA_OPTIONS = (
    "width", "height", "fps", "exposure", "gain", "auto_exposure", "auto_white_balance",
    "white_balance",
)
StartRun = Callable[[FrameSource, "deque[tuple[str, str]]"], LiveController]


class SourceSwitch:
    """Owns the live run (``controller``), the opening in progress and stopping threads."""

    def __init__(self, settings: Settings, banner: ErrorBanner, status_bar: StatusBar,
                 start_run: StartRun,
                 on_started: Callable[[LiveController, str, bool], None]) -> None:
        self.settings, self.banner, self.status_bar = settings, banner, status_bar
        self.start_run, self.on_started = start_run, on_started
        self.controller: LiveController | None = None
        self.opening: SourceOpening | None = None
        self.retired: list[threading.Thread] = []  # stopping pipelines, abandoned openings

    def open(self, spec: str, *, fallback: bool = False, **options: Any) -> None:
        """Start opening ``spec`` in the background; the current source runs until it is ready.

        A ``fallback`` (the demo shown after a source failed) is never remembered as the last
        source and leaves the failure's message up until the user dismisses it."""
        if spec.startswith("camera"):
            remembered = {k: v for k, v in self.settings.camera.items() if k in CAMERA_OPTIONS}
            options = {**remembered, **options}
        self._abandon_opening()
        self.opening = SourceOpening(spec, options)
        self.opening.fallback = fallback
        self.status_bar.showMessage(f"Opening {spec}…")

    def finish(self) -> None:
        """Swap to the opened source once its opening is done (called by the housekeeping)."""
        opening = self.opening
        if opening is None or not opening.done():
            return
        self.opening = None
        self.status_bar.clearMessage()
        if opening.error or opening.source is None:
            fallback = self.controller is None and opening.spec != "demo"
            todo = "Check the path or connection and choose the source again (File ▸ Open source)."
            self.banner.show_message(
                f"Could not open {opening.spec}: {opening.error}",
                ("The demo slide is shown meanwhile. " if fallback else "") + todo, key="source")
            if fallback:
                self.open("demo", fallback=True)
            return
        self.stop_run()
        self.controller = self.start_run(opening.source, opening.problems)
        self.controller.start()
        self.on_started(self.controller, opening.spec, not opening.fallback)

    def stop_run(self) -> None:
        """Stop the running pipeline on a helper thread: the GUI never waits for it."""
        if self.controller is not None:
            stopping = threading.Thread(
                target=self.controller.stop, name="allscope-stop-source", daemon=True)
            stopping.start()
            self.retired = [t for t in self.retired if t.is_alive()] + [stopping]
            self.controller = None

    def threads(self) -> list[threading.Thread]:
        """The threads of the run, the opening and the stopping runs that may still run."""
        threads = list(self.retired)
        if self.controller is not None:
            threads += self.controller.threads()
        if self.opening is not None:
            threads.append(self.opening.thread)
        return threads

    def close(self, wait_s: float) -> None:
        """Cancel any opening, stop the run, and wait up to ``wait_s`` per thread."""
        self._abandon_opening()
        self.stop_run()
        for thread in self.retired:
            thread.join(wait_s)

    def _abandon_opening(self) -> None:
        if self.opening is not None:
            self.opening.cancel()
            self.retired.append(self.opening.thread)
            self.opening = None
