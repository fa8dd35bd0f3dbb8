"""The main window: live view in the centre, panels in docks, everything driven by two timers.

The display timer (every ``DISPLAY_MS``) paints the newest snapshot if it is new; the
housekeeping timer (every ``HOUSEKEEPING_MS``) drains the bounded hand-offs (status messages,
flags, stored fields), updates the status bar and plots, finishes source switches, hands the
sessions' background results over (``SessionControl.poll``) and, every ``INDICATORS_EVERY`` ticks,
refreshes the colour-drift and outside indicators (``MicroscopeControls.refresh``). These are the
window's only timers. The GUI thread never waits on capture, inference or storage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMainWindow, QVBoxLayout, QWidget

from allscope.app.capture import FieldWriter
from allscope.app.field_store import FieldStore, MemoryFieldStore
from allscope.app.live_run import LiveController
from allscope.app.panel_state import flag_alert_text
from allscope.app.settings import Settings, save_settings
from allscope.app.settings import settings_dir as settings_dir_of
from allscope.core.cells.classifier import CellClassifier
from allscope.core.classifier import Classifier
from allscope.core.flags import FlagPolicy
from allscope.core.frames import FrameSource
from allscope.core.model_loading import load_classifier
from allscope.core.model_package import ModelPackageError
from allscope.core.pipeline import PipelineStats
from allscope.core.store import SessionStore
from allscope.gui.about import AboutDialog
from allscope.gui.adapt_dialog import AdaptDialog
from allscope.gui.banner import ErrorBanner
from allscope.gui.cell_dock import CellReviewDock
from allscope.gui.collector import GuiThreadCollector
from allscope.gui.gallery import GalleryModel
from allscope.gui.live_display import LiveDisplay
from allscope.gui.live_view import MODES, LiveView
from allscope.gui.microscope_menu import MicroscopeControls
from allscope.gui.plots import PLOT_COUNT
from allscope.gui.session_control import SessionControl
from allscope.gui.source_switch import SourceSwitch
from allscope.gui.status import StatusBar, StatusValues
from allscope.gui.window_parts import build_actions, build_panels
from allscope.gui.workstation_menu import WorkstationMenu

log = logging.getLogger(__name__)
DISPLAY_MS = 15
HOUSEKEEPING_MS = 250
INDICATORS_EVERY = 2  # housekeeping ticks between refreshes of the drift and outside indicators
SHUTDOWN_WAIT_S = 8.0  # per thread; a camera may take seconds to let go


class MainWindow(QMainWindow):
    """The app's window. ``open_source`` switches sources; ``shutdown`` stops every thread.

    Its parts are built here and kept as typed attributes: ``banner``, ``live_view``,
    ``status_bar``, ``panels`` (the docks), ``actions`` (menus and toolbar), ``sessions``
    (the current session) and ``microscope`` (calibration and quality limits). ``_connect`` wires
    them; no other module adds attributes to the window.
    """

    def __init__(
        self, settings: Settings, settings_dir: str | Path | None = None,
        model_path: str | Path | None = None, store: FieldStore | None = None,
        warnings: Sequence[str] = (), session_store: SessionStore | None = None,
    ) -> None:
        super().__init__()
        self._closed = False
        self._collector = GuiThreadCollector(self)  # before any worker thread starts
        self._house_ticks = 0
        self.setWindowTitle("allscope: live B-ALL screening (screening aid, not a diagnosis)")
        self.settings, self.settings_dir = settings, settings_dir
        self.memory_store: FieldStore = store or MemoryFieldStore()  # fields without a session
        self.store: FieldStore = self.memory_store
        self.writer = FieldWriter(self.store)
        self.classifier: Classifier | None = None
        model_error: str | None = None
        try:
            self.classifier = load_classifier(model_path)  # latency mode: one field at a time
        except ModelPackageError as exc:  # the window runs without a model and says so
            log.warning("no model: %s", exc)
            model_error = str(exc)
        self.cell_classifier: CellClassifier | None = None  # set by the app before a source opens
        self.cells: CellReviewDock | None = None  # the Cells dock, once a cell package is in use
        self.adapt_dialog: AdaptDialog | None = None
        self.gallery_model = GalleryModel(self)
        self.camera_events: deque[str] = deque(maxlen=32)  # "lost", "reconnecting (attempt n)", ...
        self.banner = ErrorBanner(self)
        self.live_view = LiveView(self)
        self.live_view.set_mode(self.settings.display_mode)
        self._central(self.banner, self.live_view)
        self.status_bar = StatusBar(self)
        self.setStatusBar(self.status_bar)
        self.panels = build_panels(self, settings, self.gallery_model, self.store)
        self.window_actions = build_actions(self, self.panels.docks, self.live_view.mode)
        self.sessions = SessionControl(self, self, session_store)
        # calibration, quality limits, drift and outside indicators
        self.microscope = MicroscopeControls(
            self, settings, settings_dir_of(settings_dir), self.banner, self.status_bar,
            self.panels.policy, self.save_settings, self.menuBar(), self.window_actions.toolbar,
        )
        self.workstation = WorkstationMenu(  # help, report logo, microscope scale
            self, self.window_actions.menus, settings, self.save_settings, self.banner,
            (self.live_view, self.panels.review.pane.viewer), self._set_report_logo,
        )
        self.sources = SourceSwitch(settings, self.banner, self.status_bar, self._start_run,
                                    self._run_started)
        self._connect()
        self._show_model_and_settings(model_error, warnings)
        self.restore_layout()
        self.display = LiveDisplay(
            self.live_view, self.panels.classification, self.panels.plots, DISPLAY_MS
        )
        # The two timers: painting the newest frame, and everything else (see the docstring).
        self._display_timer = QTimer(self, timerType=Qt.TimerType.PreciseTimer, interval=DISPLAY_MS)
        self._display_timer.timeout.connect(lambda: self.display.tick(self.controller))
        self._house_timer = QTimer(self, interval=HOUSEKEEPING_MS)
        self._house_timer.timeout.connect(self._housekeeping_tick)
        self._display_timer.start()
        self._house_timer.start()

    # building ----------------------------------------------------------------------------
    def _central(self, banner: ErrorBanner, live_view: LiveView) -> None:
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(banner)
        layout.addWidget(live_view, 1)
        self.setCentralWidget(central)

    def _connect(self) -> None:
        """Every connection between the window's parts, in one place."""
        panels, actions, sessions = self.panels, self.window_actions, self.sessions
        panels.policy.policy_changed.connect(self.set_policy)
        panels.policy.session_changed.connect(self.set_session_info)
        panels.camera.control_changed.connect(self.remember_camera_control)
        panels.camera.resolution_requested.connect(self.request_resolution)
        panels.camera.error.connect(
            lambda what, todo: self.banner.show_message(what, todo, key="camera-control")
        )
        panels.review.error.connect(
            lambda what, todo: self.banner.show_message(what, todo, key="review")
        )
        actions.open_source.triggered.connect(self.choose_source)
        actions.quit.triggered.connect(self.close)
        actions.fit.triggered.connect(self.live_view.fit)
        actions.capture.triggered.connect(self.capture_current)
        actions.about.triggered.connect(self.show_about)
        actions.mode_box.currentIndexChanged.connect(lambda i: self.set_display_mode(MODES[i]))
        actions.new_session.triggered.connect(sessions.new_session)
        actions.sessions.triggered.connect(sessions.show_sessions)
        for kind, action in actions.export.items():
            action.triggered.connect(lambda _=False, k=kind: sessions.export(k))
        actions.end_session.triggered.connect(sessions.end)
        sessions.changed.connect(self._enable_session_actions)
        sessions.changed.connect(self._show_session_cells)
        self._enable_session_actions()

    def _show_session_cells(self) -> None:
        """The Cells dock follows the current session (built once a cell package is in use)."""
        if self.cell_classifier is None or self.sessions.store is None:
            return
        if self.cells is None:
            reviewer = self.settings.session_info.get("operator", "")
            classes = self.cell_classifier.classes
            self.cells = CellReviewDock(self, self.sessions.store, classes, reviewer)
            self.tabifyDockWidget(self.panels.docks["camera"], self.cells)  # beside, not below
            QTimer.singleShot(0, self._show_cells_tab)
            self.window_actions.menus["view"].addAction(self.cells.toggleViewAction())
            self.cells.adapt_button.clicked.connect(self.adapt_to_microscope)
        current = self.sessions.current
        self.cells.show_session(None if current is None else current.id)

    def _show_cells_tab(self) -> None:
        """The Cells tab in front, with the room the classification panel does not need when
        cells judge (it shows no per-class bars then)."""
        if self.cells is not None:
            self.cells.raise_()
            self.resizeDocks([self.panels.docks["classification"], self.cells], [230, 300],
                             Qt.Orientation.Vertical)

    def adapt_to_microscope(self) -> AdaptDialog | None:
        """The "Adapt to this microscope" dialog; an activated package takes over the live run."""
        if self.cell_classifier is None or self.sessions.store is None:
            return None

        def activate(path: Path) -> CellClassifier:
            self.cell_classifier = CellClassifier(path)
            self.open_source(self.settings.last_source or "demo")  # the new package from now on
            return self.cell_classifier

        folder = settings_dir_of(self.settings_dir) / "cell-packages"
        reviewer = self.settings.session_info.get("operator", "")
        self.adapt_dialog = AdaptDialog(self.sessions.store, self.cell_classifier, folder, activate,
                                        reviewer, self)
        self.adapt_dialog.show()
        return self.adapt_dialog

    def _enable_session_actions(self) -> None:
        active = self.sessions.current is not None
        for action in (*self.window_actions.export.values(), self.window_actions.end_session):
            action.setEnabled(active)
        for action in (self.window_actions.new_session, self.window_actions.sessions):
            action.setEnabled(self.sessions.store is not None)

    def _show_model_and_settings(self, model_error: str | None, warnings: Sequence[str]) -> None:
        panel = self.panels.classification
        panel.threshold = self.policy().threshold
        self.panels.plots.set_threshold(self.policy().threshold)
        if self.classifier is not None:
            panel.set_classes(self.classifier.classes)
            panel.benign_class = self.classifier.package.benign_class
        else:
            panel.has_model = False
        if model_error:
            self.banner.show_message(
                model_error,
                "Fields are shown and masked but not classified. "
                "Start with --model DIR to use another model package.",
                key="model",
            )
        for warning in warnings:
            self.banner.show_message(
                warning, "Your settings were reset; they are saved again on exit.", "warning",
                key="settings",
            )

    # sources -----------------------------------------------------------------------------
    @property
    def controller(self) -> LiveController | None:
        """The live run of the current source (None before the first source has opened)."""
        return self.sources.controller

    def open_source(self, spec: str, **options: Any) -> None:
        """Start opening ``spec`` in the background; the current source runs until it is ready."""
        self.sources.open(spec, **options)

    def choose_source(self) -> None:
        from allscope.gui.source_dialog import SourceDialog

        dialog = SourceDialog(self._cameras(), self.settings.last_source, self)
        chosen = dialog.chosen() if dialog.exec() else None
        if chosen:
            spec, options = chosen
            self.open_source(spec, **options)

    def _cameras(self) -> list:
        try:
            from allscope.core.sources import enumerate_cameras

            return enumerate_cameras()
        except Exception as exc:  # a broken driver must not stop the dialog
            log.warning("listing cameras failed: %s", exc)
            return []

    def _start_run(
        self, source: FrameSource, problems: deque[tuple[str, str]]
    ) -> LiveController:
        self.panels.classification.by_cells = self.cell_classifier is not None
        controller = LiveController(source, self.classifier, self.policy(), self.writer, problems,
                                    on_result=self.sessions.record_result,
                                    cell_classifier=self.cell_classifier)
        self.microscope.attach(controller)  # quality limits and colour normaliser, before start
        return controller

    def _run_started(self, controller: LiveController, spec: str, remember: bool) -> None:
        if remember:  # not a fallback after a failed source: its message stays up
            self.settings.last_source = spec
            self.banner.dismiss("source")
        self.panels.camera.set_source(controller.source.inner)
        self.sessions.source_opened(controller.source)
        self.panels.plots.clear()
        self.display.reset()

    # display -----------------------------------------------------------------------------
    @property
    def displayed(self) -> int:
        """New frames painted since the current source opened."""
        return self.display.displayed

    def set_display_mode(self, mode: str) -> None:
        self.live_view.set_mode(mode)
        self.settings.display_mode = mode
        if self.window_actions.mode_box.currentIndex() != MODES.index(mode):
            self.window_actions.mode_box.setCurrentIndex(MODES.index(mode))

    # housekeeping ------------------------------------------------------------------------
    def _housekeeping_tick(self) -> None:
        """Every ``HOUSEKEEPING_MS``: source switches, hand-offs, status, plots, sessions."""
        self.sources.finish()
        self.sessions.poll()
        if self._house_ticks % INDICATORS_EVERY == 0:
            self.microscope.refresh(self.controller)
        now = time.monotonic()
        if self.controller is not None:
            for level, message in self.controller.drain_messages():
                self._show_status_message(level, message)
            for _, flag in self.controller.drain_flag_times():
                key = (flag.source, flag.start_frame)
                self.panels.classification.note_flag(key, flag_alert_text(flag), now)
            stats = self.controller.stats()
            if self._house_ticks % INDICATORS_EVERY == 0 and self.cell_classifier is not None:
                if self.cells is None:
                    self._show_session_cells()
                if self.cells is not None:
                    self.cells.show_live(self.controller.pipeline.tally())
            self.panels.plots.add_rates(
                now, self.display.meter.rate.rate(), stats.processed_fps, stats.infer_ms
            )
            self.status_bar.show_values(self._status_values(self.controller, stats))
        self._house_ticks += (
            1  # one plot per tick: each redraws every 0.75 s, none stalls the display
        )
        self.panels.plots.refresh(now, self._house_ticks % PLOT_COUNT)
        for outcome in self.writer.drain():
            if outcome.record is not None and self.cells is not None:
                self.cells.stored()
            if outcome.record is not None:
                if outcome.request.store in (
                    None,
                    self.store,
                ):  # else saved in a session no longer shown
                    self.gallery_model.add_record(outcome.record)
            else:
                self.banner.show_message(
                    f"A {outcome.request.kind} field was not saved: {outcome.error}",
                    "Free disk space or check the session folder; live work continues.",
                    key=f"store-{outcome.request.result.frame_id}",
                )

    def _show_status_message(self, level: str, message: str) -> None:
        if message.startswith("camera: "):
            self.camera_events.append(message[8:])
            if message == "camera: connected":
                self.banner.dismiss("camera")
            else:
                self.banner.show_message(
                    f"Camera {message[8:]}.",
                    "Check the cable; allscope reconnects "
                    "by itself and keeps every field already captured.",
                    "warning",
                    key="camera",
                )
            self.panels.camera.refresh()
            return
        todo = "Live work continues; if it repeats, restart the source (File ▸ Open source)."
        self.banner.show_message(message, todo, level, key=message[:60])

    def _status_values(self, controller: LiveController, stats: PipelineStats) -> StatusValues:
        frame = controller.latest_frame()
        resolution = None if frame is None else (frame.image.shape[1], frame.image.shape[0])
        model = "no model" if self.classifier is None else self.classifier.package.describe()
        if self.cell_classifier is not None:  # cells judge; the field model reads the subtype
            model = f"{self.cell_classifier.package.describe()} + {model}"
        shown_fps = self.display.meter.rate.rate()
        return StatusValues(controller.source.describe(), resolution, shown_fps,
                            stats.processed_fps, stats.infer_ms, stats.dropped, model)

    # actions -----------------------------------------------------------------------------
    def policy(self) -> FlagPolicy:
        try:
            return FlagPolicy.from_dict(self.settings.policy)
        except (TypeError, ValueError) as exc:
            self.banner.show_message(
                f"The saved flag policy is invalid ({exc}).", "Defaults are in use.", "warning",
                key="policy",
            )
            return FlagPolicy()

    def set_policy(self, policy: dict) -> None:
        try:
            parsed = FlagPolicy.from_dict(policy)
        except (TypeError, ValueError) as exc:
            self.banner.show_message(
                f"Flag policy not applied: {exc}.", "Correct the value.", "warning", key="policy"
            )
            return
        self.settings.policy = parsed.to_dict()
        self.save_settings()
        self.panels.classification.threshold = parsed.threshold
        self.panels.plots.set_threshold(parsed.threshold)
        if self.controller is not None:
            self.controller.set_policy(parsed)
        self.sessions.policy_changed(parsed)

    def set_session_info(self, info: dict) -> None:
        self.settings.session_info = {**self.settings.session_info, **info}
        self.save_settings()

    def remember_camera_control(self, name: str, value) -> None:
        self.settings.camera[name] = value

    def request_resolution(self, width: int, height: int) -> None:
        """Reopen the camera at another resolution (drivers only change it on open)."""
        self.settings.camera.update(width=width, height=height)
        if self.controller is not None and self.settings.last_source.startswith("camera"):
            self.open_source(self.settings.last_source)

    def capture_current(self) -> bool:
        """Store the field on screen by hand (Space); False when there is none or the writer is
        busy."""
        controller = self.controller
        snapshot = controller.latest() if controller else None
        if controller is None or snapshot is None:
            return False
        if not controller.capture(snapshot):
            self.banner.show_message(
                "The field was not captured: the writer is still saving earlier fields.",
                "Wait a moment and press Space again.", "warning", key="capture",
            )
            return False
        return True

    def set_field_store(self, store: FieldStore) -> None:
        """Capture into, review in and show ``store`` from now on (a session's, or the memory
        one)."""
        self.store = self.writer.store = self.panels.review.store = store
        self.panels.review.pane.set_record(None)
        self.gallery_model.clear()

    def show_saved_records(self, records: list) -> None:
        """Put a resumed session's saved fields first in the gallery, before any captured since."""
        known = {r.id for r in records}
        newer = [r for r in self.gallery_model.records() if r.id not in known]
        self.gallery_model.clear()
        for record in [*records, *newer]:
            self.gallery_model.add_record(record)

    def _set_report_logo(self, logo: Path | None) -> None:
        if self.sessions.exporter is not None:
            self.sessions.exporter.logo = logo

    def show_about(self) -> None:
        AboutDialog(None if self.classifier is None else self.classifier.package, self).exec()

    # metrics, layout, shutdown -----------------------------------------------------------
    def metrics(self) -> dict:
        """Figures for ``--quit-after``: rates since the first frame was shown, the source that
        was shown and the banner's messages (a camera that could not be opened says so here
        instead of reporting the demo's frame rate as if it were the camera's)."""
        controller = self.controller
        stats = controller.stats() if controller else None
        figures = self.display.meter.metrics(stats, controller.flags if controller else 0)
        tally = controller.pipeline.tally() if controller else None
        figures["tally"] = {
            "wbc": tally.wbc if tally else 0,
            "blasts": tally.blasts if tally else 0,
            "blast_fraction": tally.blast_fraction if tally else None,
        }
        figures["cells_per_s"] = round(stats.cells_per_s, 1) if stats else 0.0
        figures["source"] = controller.source.describe() if controller else None
        figures["messages"] = [f"{m.what} {m.todo}".strip() for m in self.banner.messages()]
        return figures

    def restore_layout(self) -> None:
        from PySide6.QtCore import QByteArray

        if self.settings.geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.geometry.encode()))
        else:
            self.resize(1400, 900)
        if self.settings.window_state:
            self.restoreState(QByteArray.fromBase64(self.settings.window_state.encode()))

    def save_settings(self) -> None:
        self.settings.geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        self.settings.window_state = bytes(self.saveState().toBase64().data()).decode()
        try:
            save_settings(self.settings, self.settings_dir)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)

    def threads(self) -> list[threading.Thread]:
        """Every thread this window started that may still run."""
        return [self.writer.thread, *self.sources.threads(), *self.sessions.threads()]

    def shutdown(self) -> None:
        """Stop timers and every thread, store pending fields, save settings. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._display_timer.stop()
        self._house_timer.stop()
        self.sources.close(SHUTDOWN_WAIT_S)
        self.writer.close()
        self.sessions.close()
        self.save_settings()
        self._collector.stop()

    def closeEvent(self, event) -> None:  # Qt's name
        self.shutdown()
        super().closeEvent(event)
