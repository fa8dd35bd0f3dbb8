"""The status bar: source, resolution, display and processing rates, inference time, drops, model."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QLabel, QStatusBar

FIELDS = ("source", "resolution", "display", "processing", "inference", "dropped", "model")


@dataclass(frozen=True)
class StatusValues:
    source: str = "no source"
    resolution: tuple[int, int] | None = None
    display_fps: float = 0.0
    processed_fps: float = 0.0
    infer_ms: float | None = None
    dropped: int = 0
    model: str = "no model"


def status_texts(values: StatusValues) -> dict[str, str]:
    """One short text per status field."""
    resolution = "—" if values.resolution is None else f"{values.resolution[0]}×{values.resolution[1]}"
    inference = "inference —" if not values.infer_ms else f"inference {values.infer_ms:.1f} ms"
    return {
        "source": values.source,
        "resolution": resolution,
        "display": f"display {values.display_fps:.1f} fps",
        "processing": f"processing {values.processed_fps:.1f} fps",
        "inference": inference,
        "dropped": f"dropped {values.dropped}",
        "model": values.model,
    }


class StatusBar(QStatusBar):
    """Permanent labels for each field; updated a few times a second, not per frame."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.labels = {name: QLabel(self) for name in FIELDS}
        for name in FIELDS:
            self.addPermanentWidget(self.labels[name], 1 if name == "source" else 0)
        self.labels["dropped"].setToolTip(
            "Frames the processing thread skipped because a newer frame had arrived; "
            "the display always shows the newest frame.")
        self.show_values(StatusValues())

    def show_values(self, values: StatusValues) -> None:
        for name, text in status_texts(values).items():
            label = self.labels[name]
            if label.text() != text:
                label.setText(text)

    def text(self, name: str) -> str:
        return self.labels[name].text()
