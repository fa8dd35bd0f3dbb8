"""Opening a source off the GUI thread: a camera can take seconds to connect, the demo slide
paints its specimen first. The window polls ``done()`` on its timer and never waits."""

from __future__ import annotations

import threading
from collections import deque
from pathlib import Path
from typing import Any

from allscope.core.frames import FrameSource, SourceError

GUI_VIDEO_OPTIONS = {"paced": True, "loop": True}  # a video plays like a camera in the app


def gui_options(spec: str, options: dict[str, Any], problems: deque[Any]) -> dict[str, Any]:
    """The constructor options the app uses for ``spec`` on top of the caller's.

    Videos play paced and looped; image folders report unreadable files into ``problems``.
    """
    from allscope.core.sources import IMAGE_SUFFIXES, VIDEO_SUFFIXES

    path = Path(spec)
    if path.suffix.lower() in VIDEO_SUFFIXES and path.is_file():
        return {**GUI_VIDEO_OPTIONS, **options}
    if path.is_dir() or (path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES):
        return {"on_error": lambda file, message: problems.append((file, message)), **options}
    return dict(options)


class SourceOpening:
    """One attempt to open ``spec``; ``source`` or ``error`` is set when ``done()``."""

    def __init__(self, spec: str, options: dict[str, Any] | None = None) -> None:
        self.spec = spec
        self.problems: deque[tuple[str, str]] = deque(
            maxlen=32
        )  # (file, message) from image folders
        self.options = gui_options(spec, options or {}, self.problems)
        self.source: FrameSource | None = None
        self.error: str | None = None
        self.fallback = False  # opened only because the source asked for failed
        self._cancelled = False
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._open, name="allscope-open-source", daemon=True)
        self.thread.start()

    def done(self) -> bool:
        return not self.thread.is_alive()

    def cancel(self, wait: float | None = None) -> None:
        """Give up on this attempt without waiting (or up to ``wait`` seconds); a source
        that opens anyway is closed by the opening thread itself."""
        with self._lock:
            self._cancelled = True
            source, self.source = self.source, None
        if source is not None:
            source.close()
        if wait is not None:
            self.thread.join(wait)

    def _open(self) -> None:
        from allscope.core.sources import open_source

        try:
            source = open_source(self.spec, **self.options)
        except (SourceError, OSError, ValueError, TypeError) as exc:
            self.error = str(exc) or type(exc).__name__
            return
        except Exception as exc:  # any failure must reach the banner
            self.error = f"{type(exc).__name__}: {exc}"
            return
        with self._lock:
            if not self._cancelled:
                self.source = source
                return
        source.close()
