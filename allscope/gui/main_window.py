"""The main window: live view in the centre, panels in docks, everything driven by two timers.

The display timer (every ``DISPLAY_MS``) paints the newest snapshot if it is new; the
housekeeping timer (every ``HOUSEKEEPING_MS``) drains the bounded hand-offs (status messages,
flags, stored fields), updates the status bar and plots, and finishes source switches. The
GUI thread never waits on capture, inference or storage.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QMainWindow, QVBoxLayout, QWidget

from allscope.app.capture import FieldWriter
from allscope.app.display_meter import DisplayMeter
from allscope.app.field_store import FieldStore, MemoryFieldStore
from allscope.app.live_run import LiveController
from allscope.app.model_loading import load_classifier
from allscope.app.settings import Settings, save_settings
from allscope.app.source_opening import SourceOpening
from allscope.core.flags import FlagPolicy
from allscope.core.store import SessionStore
from allscope.gui.about import AboutDialog
from allscope.gui.banner import ErrorBanner
from allscope.gui.gallery import GalleryModel
from allscope.gui.live_view import MODES, LiveView
from allscope.gui.microscope_menu import TrustControls
from allscope.gui.plots import PLOT_COUNT
from allscope.gui.session_control import SessionControl
from allscope.gui.status import StatusValues
from allscope.gui.window_layout import build_actions, build_docks

log = logging.getLogger(__name__)
DISPLAY_MS = 15
HOUSEKEEPING_MS = 250
SHUTDOWN_WAIT_S = 8.0  # per thread; a camera may take seconds to let go
CAMERA_OPTIONS = (
    "width",
    "height",
    "fps",
    "exposure",
    "gain",
    "auto_exposure",
    "auto_white_balance",
    "white_balance",
)


class MainWindow(QMainWindow):
    """The app's window. ``open_source`` switches sources; ``shutdown`` stops every thread."""

    def __init__(self, settings: Settings, settings_dir=None, model_path=None,
                 store: FieldStore | None = None, warnings: list[str] = (),
                 session_store: SessionStore | None = None) -> None:
        super().__init__()
        self._closed = False
        self._house_ticks = 0
        self._retired: list[threading.Thread] = []  # stopping pipelines, abandoned openings
        self.setWindowTitle("allscope: live B-ALL screening (screening aid, not a diagnosis)")
        self.settings, self.settings_dir = settings, settings_dir
        self.memory_store = store or MemoryFieldStore()  # the gallery's store without a session
        self.store = self.memory_store
        self.writer = FieldWriter(self.store)
        self.sessions = SessionControl(self, session_store)
        self.controller: LiveController | None = None
        self.opening: SourceOpening | None = None
        self.classifier, model_error = load_classifier(model_path)
        self.gallery_model = GalleryModel(self)
        self.camera_events: deque[str] = deque(maxlen=32)  # "lost", "reconnecting (attempt n)", ...
        self._build(model_error, warnings)
        self._reset_meters()
        self._display_timer = QTimer(self, timerType=Qt.TimerType.PreciseTimer, interval=DISPLAY_MS)
        self._display_timer.timeout.connect(self._display_tick)
        self._house_timer = QTimer(self, interval=HOUSEKEEPING_MS)
        self._house_timer.timeout.connect(self._housekeeping_tick)
        self._display_timer.start()
        self._house_timer.start()

    # building ----------------------------------------------------------------------------
    def _build(self, model_error: str | None, warnings) -> None:
        self.banner = ErrorBanner(self)
        self.live_view = LiveView(self)
        self.live_view.set_mode(self.settings.display_mode)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.banner)
        layout.addWidget(self.live_view, 1)
        self.setCentralWidget(central)
        build_docks(self)
        build_actions(self)
        self.trust = TrustControls(
            self
        )  # calibration, quality limits, drift and outside indicators
        self.panel.threshold = self.policy().threshold
        self.plots.set_threshold(self.policy().threshold)
        if self.classifier is not None:
            self.panel.set_classes(self.classifier.classes)
            self.panel.benign_class = self.classifier.package.benign_class
        else:
            self.panel.has_model = False
        if model_error:
            self.banner.show_message(
                model_error,
                "Fields are shown and masked but not classified. "
                "Start with --model DIR to use another model package.",
                key="model",
            )
        for warning in warnings:
            self.banner.show_message(
                warning,
                "Your settings were reset; they are saved again on exit.",
                "warning",
                key="settings",
            )
        self.restore_layout()

    # sources -----------------------------------------------------------------------------
    def open_source(self, spec: str, **options) -> None:
        """Start opening ``spec`` in the background; the current source runs until it is ready."""
        if spec.startswith("camera"):
            remembered = {k: v for k, v in self.settings.camera.items() if k in CAMERA_OPTIONS}
            options = {**remembered, **options}
        if self.opening is not None:
            self.opening.cancel()
            self._retired.append(self.opening.thread)
        self.opening = SourceOpening(spec, options)
        self.status_bar.showMessage(f"Opening {spec}…")

    def choose_source(self) -> None:
        from allscope.gui.source_dialog import SourceDialog

        dialog = SourceDialog(self._cameras(), self.settings.last_source, self)
        if dialog.exec() and dialog.chosen():
            spec, options = dialog.chosen()
            self.open_source(spec, **options)

    def _cameras(self) -> list:
        try:
            from allscope.core.sources import enumerate_cameras
            return enumerate_cameras()
        except Exception as exc:  # a broken driver must not stop the dialog
            log.warning("listing cameras failed: %s", exc)
            return []

    def _finish_opening(self) -> None:
        opening = self.opening
        if opening is None or not opening.done():
            return
        self.opening = None
        self.status_bar.clearMessage()
        if opening.error:
            fallback = self.controller is None and opening.spec != "demo"
            todo = "Check the path or connection and choose the source again (File ▸ Open source)."
            self.banner.show_message(
                f"Could not open {opening.spec}: {opening.error}",
                ("The demo slide is shown meanwhile. " if fallback else "") + todo,
                key="source",
            )
            if fallback:
                self.open_source("demo")
            return
        self._stop_controller()
        self.controller = LiveController(
            opening.source,
            self.classifier,
            self.policy(),
            self.writer,
            opening.problems,
            on_result=self.sessions.record_result,
        )
        self.trust.attach(self.controller)  # quality limits and colour normaliser, before it starts
        self.controller.start()
        self.settings.last_source = opening.spec
        self.banner.dismiss("source")
        self.camera_controls.set_source(opening.source)
        self.plots.clear()
        self._reset_meters()

    def _stop_controller(self) -> None:
        """Stop the running pipeline on a helper thread: the GUI never waits for it."""
        if self.controller is not None:
            stopping = threading.Thread(
                target=self.controller.stop, name="allscope-stop-source", daemon=True
            )
            stopping.start()
            self._retired = [t for t in self._retired if t.is_alive()] + [stopping]
            self.controller = None

    # display -----------------------------------------------------------------------------
    def _reset_meters(self) -> None:
        self.meter = DisplayMeter(DISPLAY_MS)
        self._shown: tuple[int, int, str] | None = None
        self._shown_frame_id: int | None = None
        self._last_p_id: int | None = None

    @property
    def displayed(self) -> int:
        """New frames painted since the current source opened."""
        return self.meter.displayed

    def _display_tick(self) -> None:
        self.meter.tick()
        if self.controller is None:
            return
        frame, snapshot = self.controller.latest_frame(), self.controller.latest()
        if frame is None:
            return
        key = (frame.id, -1 if snapshot is None else snapshot.frame.id, self.live_view.mode)
        if key == self._shown:
            return
        new_snapshot = self._shown is None or snapshot is not None and key[1] != self._shown[1]
        self._shown = key
        current = snapshot is not None and (snapshot.frame.id == frame.id or not snapshot.moving)
        self.live_view.show_field(
            frame.image, None if snapshot is None else snapshot.mask, outlines=current
        )
        if snapshot is not None and new_snapshot:
            self._show_snapshot(snapshot)
        if frame.id != self._shown_frame_id:  # count new frames, not repaints with a newer mask
            self._shown_frame_id = frame.id
            self.meter.frame_shown(self.controller.stats())

    def _show_snapshot(self, snapshot) -> None:
        self.panel.show_result(snapshot.result, snapshot.last_classified, time.monotonic())
        classified = snapshot.last_classified
        if (
            classified is not None
            and classified.p_all is not None
            and classified.frame_id != self._last_p_id
        ):
            self._last_p_id = classified.frame_id
            self.plots.add_p_all(time.monotonic(), classified.p_all)

    def set_display_mode(self, mode: str) -> None:
        self.live_view.set_mode(mode)
        self.settings.display_mode = mode
        if self.mode_box.currentIndex() != MODES.index(mode):
            self.mode_box.setCurrentIndex(MODES.index(mode))

    # housekeeping ------------------------------------------------------------------------
    def _housekeeping_tick(self) -> None:
        self._finish_opening()
        now = time.monotonic()
        if self.controller is not None:
            for level, message in self.controller.drain_messages():
                self._show_status_message(level, message)
            for _ in self.controller.drain_flag_times():
                self.panel.note_flag(now)
            stats = self.controller.stats()
            self.plots.add_rates(now, self.meter.rate.rate(), stats.processed_fps, stats.infer_ms)
            self.status_bar.show_values(self._status_values(stats))
        self._house_ticks += (
            1  # one plot per tick: each redraws every 0.75 s, none stalls the display
        )
        self.plots.refresh(now, self._house_ticks % PLOT_COUNT)
        for outcome in self.writer.drain():
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
            self.camera_controls.refresh()
            return
        todo = "Live work continues; if it repeats, restart the source (File ▸ Open source)."
        self.banner.show_message(message, todo, level, key=message[:60])

    def _status_values(self, stats) -> StatusValues:
        frame = self.controller.latest_frame()
        resolution = None if frame is None else (frame.image.shape[1], frame.image.shape[0])
        model = "no model" if self.classifier is None else self.classifier.package.describe()
        return StatusValues(self.controller.source.describe(), resolution, self.meter.rate.rate(),
                            stats.processed_fps, stats.infer_ms, stats.dropped, model)

    # actions -----------------------------------------------------------------------------
    def policy(self) -> FlagPolicy:
        try:
            return FlagPolicy.from_dict(self.settings.policy)
        except (TypeError, ValueError) as exc:
            self.banner.show_message(
                f"The saved flag policy is invalid ({exc}).",
                "Defaults are in use.",
                "warning",
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
        self.panel.threshold = parsed.threshold
        self.plots.set_threshold(parsed.threshold)
        if self.controller is not None:
            self.controller.set_policy(parsed)

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
        snapshot = self.controller.latest() if self.controller else None
        if snapshot is None:
            return False
        if not self.controller.capture(snapshot):
            self.banner.show_message(
                "The field was not captured: the writer is still saving earlier fields.",
                "Wait a moment and press Space again.",
                "warning",
                key="capture",
            )
            return False
        return True

    def set_field_store(self, store: FieldStore) -> None:
        """Capture into, review in and show ``store`` from now on (a session's, or the memory
        one)."""
        self.store = self.writer.store = self.review.store = store
        self.review.pane.set_record(None)
        self.gallery_model.clear()

    def show_saved_records(self, records: list) -> None:
        """Put a resumed session's saved fields first in the gallery, before any captured since."""
        known = {r.id for r in records}
        newer = [r for r in self.gallery_model.records() if r.id not in known]
        self.gallery_model.clear()
        for record in [*records, *newer]:
            self.gallery_model.add_record(record)

    def show_about(self) -> None:
        AboutDialog(None if self.classifier is None else self.classifier.package, self).exec()

    # metrics, layout, shutdown -----------------------------------------------------------
    def metrics(self) -> dict:
        """Figures for ``--quit-after``: rates since the first frame was shown."""
        controller = self.controller
        return self.meter.metrics(
            controller.stats() if controller else None, controller.flags if controller else 0
        )

    def restore_layout(self) -> None:
        from PySide6.QtCore import QByteArray

        if self.settings.geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.geometry.encode()))
        else:
            self.resize(1400, 900)
        if self.settings.window_state:
            self.restoreState(QByteArray.fromBase64(self.settings.window_state.encode()))

    def save_settings(self) -> None:
        self.settings.geometry = self.saveGeometry().toBase64().data().decode()
        self.settings.window_state = self.saveState().toBase64().data().decode()
        try:
            save_settings(self.settings, self.settings_dir)
        except OSError as exc:
            log.warning("settings not saved: %s", exc)

    def threads(self) -> list[threading.Thread]:
        """Every thread this window started that may still run."""
        threads = [self.writer.thread, *self._retired, *self.sessions.threads()]
        if self.controller is not None:
            threads += self.controller.threads()
        if self.opening is not None:
            threads.append(self.opening.thread)
        return threads

    def shutdown(self) -> None:
        """Stop timers and every thread, store pending fields, save settings. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._display_timer.stop()
        self._house_timer.stop()
        if self.opening is not None:
            self.opening.cancel()
            self._retired.append(self.opening.thread)
            self.opening = None
        self._stop_controller()
        for thread in self._retired:
            thread.join(SHUTDOWN_WAIT_S)
        self.writer.close()
        self.sessions.close()
        self.save_settings()

    def closeEvent(self, event) -> None:  # Qt's name
        self.shutdown()
        super().closeEvent(event)
