"""The status bar in the user's words: the source and its picture size, whether analysis keeps up
with the camera, the model, the colour state and how many fields need a look. The engineering
figures (frame rates, inference time, skipped frames) are in the pace label's tooltip and in the
Diagnostics dock."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar

from allscope.core.colour.calibration import DRIFT_WARN

FIELDS = ("source", "resolution", "pace", "model")
TRUST_FIELDS = ("colour", "outside")
SHRINKING = {
    "source": 2,
    "model": 1,
}  # long texts: they shrink (full text in the tooltip), not the window
DRIFT_TIP = "colour has drifted from the calibration: recalibrate on a blank area"
COLOUR_TIP = (
    "Colour normalisation: off, on without a white reference (uncalibrated: Microscope ▸ "
    "Calibrate on a blank area), or the background's distance ΔE*ab from the calibration."
)
AMBER = "background: #f0a020; color: black; padding: 0 4px; border-radius: 3px;"


@dataclass(frozen=True)
class StatusValues:
    source: str = "no source"
    resolution: tuple[int, int] | None = None
    display_fps: float = 0.0
    processed_fps: float = 0.0
    infer_ms: float | None = None
    dropped: int = 0
    model: str = "no model"


def pace_text(values: StatusValues) -> str:
    """Whether every shown field is analysed, in words."""
    if values.processed_fps <= 0:
        return "Analysis starting…"
    if values.processed_fps >= 0.8 * values.display_fps:
        return "Analysing every field"
    return "Analysing the newest fields (some frames skipped)"


def pace_tip(values: StatusValues) -> str:
    inference = "—" if not values.infer_ms else f"{values.infer_ms:.1f} ms"
    return (
        f"Shown {values.display_fps:.1f} frames/s, analysed {values.processed_fps:.1f} frames/s, "
        f"model time per field {inference}, frames skipped so far {values.dropped}. "
        "Skipping is harmless: the newest frame is always analysed."
    )


def status_texts(values: StatusValues) -> dict[str, str]:
    """One short text per status field."""
    resolution = (
        "—" if values.resolution is None else f"{values.resolution[0]}×{values.resolution[1]}"
    )
    return {
        "source": values.source,
        "resolution": resolution,
        "pace": pace_text(values),
        "model": f"Model: {values.model.split(' (')[0]}",
    }


@dataclass(frozen=True)
class TrustValues:
    normalizing: bool = False
    calibrated: bool = False
    drift: float | None = None  # ΔE*ab of the background from the white reference
    outside: int = 0  # fields outside the model's experience so far


def colour_text(values: TrustValues) -> str:
    """Short: the status bar's width sets the window's least width."""
    if not values.normalizing:
        return "Colour as recorded"
    if not values.calibrated:
        return "Colour normalised (not calibrated)"
    return (
        "Colour calibrated"
        if values.drift is None
        else f"Colour calibrated (drift {values.drift:.1f})"
    )


def drifted(values: TrustValues) -> bool:
    return values.calibrated and values.drift is not None and values.drift > DRIFT_WARN


class StatusBar(QStatusBar):
    """Permanent labels for each field; updated a few times a second, not per frame."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.labels = {name: QLabel(self) for name in (*FIELDS, *TRUST_FIELDS)}
        for name in (*FIELDS, *TRUST_FIELDS):
            if name in SHRINKING:
                self.labels[name].setSizePolicy(
                    QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred
                )
                self.labels[name].setMinimumWidth(60)
            self.addPermanentWidget(self.labels[name], SHRINKING.get(name, 0))

        self.labels["outside"].setToolTip(
            "Fields outside the model's experience: unlike its training data, so the model "
            "abstained; they are never flagged. Look at them yourself."
        )
        self.show_values(StatusValues())
        self.show_trust(TrustValues())

    def show_values(self, values: StatusValues) -> None:
        for name, text in status_texts(values).items():
            label = self.labels[name]
            if label.text() != text:
                label.setText(text)
                if name in SHRINKING:
                    label.setToolTip(values.model if name == "model" else text)
        self.labels["pace"].setToolTip(pace_tip(values))

    def show_trust(self, values: TrustValues) -> None:
        """The colour indicator (amber above ``DRIFT_WARN``) and the outside count."""
        colour = self.labels["colour"]
        warn = drifted(values)
        texts = {"colour": colour_text(values), "outside": f"{values.outside} field(s) need a look"}
        for name, text in texts.items():
            if self.labels[name].text() != text:
                self.labels[name].setText(text)
        if warn != self.drift_warning:
            colour.setStyleSheet(AMBER if warn else "")
        tip = DRIFT_TIP if warn else COLOUR_TIP
        if colour.toolTip() != tip:
            colour.setToolTip(tip)

    @property
    def drift_warning(self) -> bool:
        return bool(self.labels["colour"].styleSheet())

    def text(self, name: str) -> str:
        return self.labels[name].text()
