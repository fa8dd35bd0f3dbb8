"""One live run: a pipeline plus the bounded hand-offs from its threads to the GUI.

Pipeline callbacks arrive on worker threads. Nothing here emits a Qt signal: flags go to the
capture writer (a bounded queue), status messages and flag times into bounded deques, and
the GUI timer drains them. The display reads ``latest()`` on the same timer.

The trust features are set here: the quality gate's thresholds (``set_quality``), the colour
normaliser (``set_normalization``, ``calibrate``) and the count of fields outside the model's
experience (``outside``). All three may change while the pipeline runs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from allscope.app.capture import FieldWriter
from allscope.app.normalizer_switch import (
    OutsideCounter,
    SwitchableNormalizer,
    normalizer_for,
    source_key,
)
from allscope.app.tee_source import TeeSource
from allscope.core.cells.classifier import CellClassifier
from allscope.core.classifier import Classifier
from allscope.core.colour.calibration import CalibrationError, WhiteReference, white_reference
from allscope.core.flags import FlagPolicy
from allscope.core.frames import Frame, FrameSource
from allscope.core.pipeline import LiveSnapshot, Pipeline, PipelineStats
from allscope.core.quality import QualityGate, QualitySettings
from allscope.core.results import FieldResult, Flag, MaskResult

log = logging.getLogger(__name__)
MAX_MESSAGES = 64


class LiveController:
    """Runs ``source`` through a Pipeline; flagged fields go to ``writer``."""

    def __init__(
        self, source: FrameSource, classifier: Classifier | None, policy: FlagPolicy,
        writer: FieldWriter, problems: deque[Any] | None = None, *,
        on_result: Callable[[FieldResult], None] | None = None,
        quality: QualitySettings | None = None, normalize: bool = False,
        config_dir: str | Path | None = None,
        cell_classifier: CellClassifier | None = None,
    ) -> None:
        self.source = TeeSource(source)
        self.writer = writer
        self.camera_key = source_key(source)
        self.gate = QualityGate(quality)
        self.normalizer = SwitchableNormalizer()
        self.outside = OutsideCounter()
        self.pipeline = Pipeline(
            self.source, classifier, policy, gate=self.gate, normalizer=self.normalizer,
            cell_classifier=cell_classifier,
        )
        self.pipeline.add_result_listener(self.outside.update)
        if on_result is not None:  # e.g. the session's per-frame record
            self.pipeline.add_result_listener(on_result)
        self.messages: deque[tuple[str, str]] = deque(maxlen=MAX_MESSAGES)
        self.flag_times: deque[tuple[float, Flag]] = deque(
            maxlen=MAX_MESSAGES
        )  # (monotonic time, flag)
        self.flags = 0
        self.problems = (
            problems if problems is not None else deque(maxlen=MAX_MESSAGES)
        )  # unreadable files
        self.started_at: float | None = None
        self.pipeline.add_flag_listener(self._on_flag)
        self.pipeline.add_status_listener(self._on_status)
        on_status = getattr(source, "on_status", None)  # cameras report lost / reconnecting
        if callable(on_status):
            on_status(self._on_camera_status)
        if normalize:
            self.set_normalization(True, config_dir)

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.pipeline.start()

    def stop(self, timeout: float = 3.0) -> None:
        self.pipeline.stop(timeout)

    def latest(self) -> LiveSnapshot | None:
        """The newest processed snapshot (mask and results)."""
        return self.pipeline.latest()

    def latest_frame(self) -> Frame | None:
        """The newest captured frame, which may be newer than ``latest().frame``."""
        return self.source.latest_frame()

    def stats(self) -> PipelineStats:
        return self.pipeline.stats()

    def set_policy(self, policy: FlagPolicy) -> None:
        self.pipeline.set_policy(policy)

    def threads(self) -> list[threading.Thread]:
        return self.pipeline.threads()

    # trust -------------------------------------------------------------------------------
    def set_quality(self, quality: QualitySettings) -> None:
        """New gate thresholds, used from the next frame on (one attribute swap)."""
        self.gate.settings = quality

    def set_normalization(self, enabled: bool, config_dir: str | Path | None = None) -> None:
        """Normalise colours (with this source's saved white reference, if any) or stop.

        An unreadable reference is reported as a warning; normalisation then runs without it.
        """
        if not enabled:
            self.normalizer.inner = None
            return
        try:
            self.normalizer.inner = normalizer_for(config_dir, self.camera_key)
        except CalibrationError as exc:
            self.messages.append(("warning", str(exc)))
            self.normalizer.inner = normalizer_for(None, self.camera_key)

    def calibrate(self, config_dir: str | Path) -> WhiteReference:
        """Take the newest raw frame as the white reference of this source, save it in
        ``config_dir`` and normalise with it from now on (if normalisation is on).

        Raises ``CalibrationError`` (with what to do) when the frame cannot serve, and
        ``OSError`` when the reference cannot be saved.
        """
        frame = self.latest_frame()
        if frame is None:
            raise CalibrationError(
                "No frame has arrived yet: wait for the live image, then calibrate again."
            )
        reference = white_reference(frame.image, self.camera_key)
        reference.save(config_dir)
        if self.normalizer.enabled:
            self.normalizer.inner = normalizer_for(config_dir, self.camera_key, reference)
        return reference

    def drain_messages(self) -> list[tuple[str, str]]:
        """(level, message) pairs reported since the last call, oldest first."""
        for file, message in _drain(self.problems):
            self.messages.append(("warning", f"{file} was skipped: {message}"))
        return _drain(self.messages)

    def drain_flag_times(self) -> list[tuple[float, Flag]]:
        """(time, flag) of the flags raised since the last call."""
        return _drain(self.flag_times)

    def capture(self, snapshot: LiveSnapshot) -> bool:
        """Store the snapshot's field by hand (Space), classified like any field; False when the
        writer is busy. The classification (field model and cells) runs on the writer thread,
        so the GUI thread returns at once even while the pipeline holds the models."""
        return self.writer.submit("manual", snapshot.frame.image, snapshot.mask, snapshot.result,
                                  classify=lambda: self.pipeline.classify_now(snapshot))

    # worker threads ----------------------------------------------------------------------
    def _on_flag(self, flag: Flag, frame: Frame, mask: MaskResult) -> None:
        self.flags += 1
        self.flag_times.append((time.monotonic(), flag))
        if not self.writer.submit("flag", frame.image, mask, flag.result, flag):
            self.messages.append(
                (
                    "error",
                    "A flagged field could not be queued for saving: the "
                    "writer is busy. Slow the scan down; the flag is in the session log.",
                )
            )

    def _on_status(self, level: str, message: str) -> None:
        self.messages.append((level, message))

    def _on_camera_status(self, status: str) -> None:
        level = "info" if status == "connected" else "warning"
        self.messages.append((level, f"camera: {status}"))


def _drain(items: deque[Any]) -> list[Any]:
    out = []
    while items:
        out.append(items.popleft())
    return out
