"""The app factory and the ``allscope`` GUI entry point (with ``--quit-after`` for benchmarks
and bundle smoke tests)."""

from __future__ import annotations

import argparse
import json
import sys

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from allscope.app.settings import load_settings
from allscope.core.model_loading import has_cell_package, load_cell_classifier
from allscope.core.model_package import ModelPackageError
from allscope.core.store import SessionStore
from allscope.gui.main_window import MainWindow
from allscope.gui.session_control import Problem, open_session_store
from allscope.report.fonts import register_fonts

BROKEN_BINDING = (
    "This PySide6 ({version}) loses a reference to True on every Signal.emit() from Python, "
    "which crashes the app within seconds. Install another version: "
    "pip install 'PySide6-Essentials>=6.6,!=6.12.0'"
)


class _Probe(QObject):
    fired = Signal(object)


def binding_defect() -> str | None:
    """A message when the installed PySide6 has the Signal.emit reference leak, else None."""
    import PySide6

    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(20):
        probe.fired.emit(None)
    leaked = before - sys.getrefcount(True)
    return BROKEN_BINDING.format(version=PySide6.__version__) if leaked >= 20 else None


def default_source() -> str:
    """The first camera when one is attached, else the demo slide."""
    try:
        from allscope.core.sources import enumerate_cameras
        cameras = enumerate_cameras()
    except Exception:  # no camera stack at all: the demo still works
        cameras = []
    return f"camera:{cameras[0].index}" if cameras else "demo"


def create_window(args: argparse.Namespace, store=None, source_options: dict | None = None,
                  session_store: SessionStore | None = None) -> tuple[QApplication, MainWindow]:
    """Build the application and its window from parsed ``allscope`` arguments and open the source.

    ``source_options`` go to the source's constructor (tests use a small demo slide).
    ``store`` is the gallery's store when no session is current (default: in memory);
    ``session_store`` the sessions' store (default: opened in the data directory, see
    ``allscope.core.store.default_root``, and closed with the window)."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(["allscope"])
    app.setApplicationName("allscope")
    app.setOrganizationName("allscope")
    defect = binding_defect()
    if defect:
        raise RuntimeError(defect)
    settings_dir = getattr(args, "settings_dir", None)
    settings, warnings = load_settings(settings_dir)
    register_fonts()  # here on the GUI thread: exports later draw text on a worker thread
    problems: list[Problem] = []
    owns = session_store is None
    if owns:
        session_store, problems = open_session_store()
    window = MainWindow(
        settings, settings_dir, getattr(args, "model", None), store, warnings, session_store
    )
    cell_model = getattr(args, "cell_model", None)
    wanted = not getattr(args, "no_cell_model", False)
    if wanted and (cell_model is not None or has_cell_package()):  # else whole fields only
        try:
            window.cell_classifier = load_cell_classifier(cell_model)
        except ModelPackageError as exc:
            window.banner.show_message(str(exc), "Whole fields are judged meanwhile.", key="cells")
    window.sessions.owns_store = owns
    window.sessions.report(problems)
    window.sessions.offer_resume()
    if getattr(args, "demo", False):
        spec = "demo"
    else:
        spec = getattr(args, "source", None) or settings.last_source or default_source()
    window.open_source(spec, **(source_options or {}))
    return app, window


def create_app(argv: list[str] | None = None, store=None, source_options: dict | None = None,
               session_store: SessionStore | None = None) -> tuple[QApplication, MainWindow]:
    """The app and its window for ``allscope`` command-line arguments (tests and embedding)."""
    from allscope.app.arguments import gui_parser

    return create_window(
        gui_parser().parse_args(list(argv or [])), store, source_options, session_store
    )


def run_gui(args: argparse.Namespace) -> int:
    """Show the window and run until it closes, or for ``args.quit_after`` seconds."""
    try:
        app, window = create_window(args)
    except RuntimeError as exc:
        print(f"The desktop app cannot start: {exc}", file=sys.stderr)
        return 1
    window.show()
    quit_after = getattr(args, "quit_after", None)
    if quit_after is not None:
        _quit_after_first_frame(app, window, quit_after)
    code = app.exec()
    window.shutdown()
    return code


# --quit-after waits at most this long for a first frame (a source that never shows one)
FIRST_FRAME_WAIT_S = 120.0


def _quit_after_first_frame(app: QApplication, window: MainWindow, seconds: float) -> None:
    """Report and quit ``seconds`` after the first frame was shown, so the figures cover the
    same span however long the source took to open on a busy machine; without any frame,
    report (zero rates, the banner's messages) after ``FIRST_FRAME_WAIT_S``."""
    poll = QTimer(window)
    waited = [0]

    def check() -> None:
        waited[0] += 1
        if window.displayed > 0 or waited[0] * 0.1 >= FIRST_FRAME_WAIT_S:
            poll.stop()
            QTimer.singleShot(int(seconds * 1000), lambda: _report_and_quit(app, window))

    poll.timeout.connect(check)
    poll.start(100)


def _report_and_quit(app: QApplication, window: MainWindow) -> None:
    metrics = window.metrics()
    window.close()
    print(json.dumps(metrics), flush=True)
    app.quit()
