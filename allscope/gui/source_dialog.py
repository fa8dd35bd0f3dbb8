"""Choosing what to look at: a camera (with resolution and frame rate), a video file, an image
folder, a virtual slide panned over a folder of fields, or the built-in demo slide."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from allscope.gui.camera_panel import RESOLUTIONS

KINDS = ("camera", "video", "folder", "slide", "demo")
VIDEO_FILTER = "Videos (*.mp4 *.avi *.mkv *.mov *.m4v *.wmv);;All files (*)"


def build_spec(kind: str, value: str = "") -> str:
    """The ``open_source`` spec for a choice; raises ValueError with what is wrong."""
    if kind == "demo":
        return "demo"
    if kind == "camera":
        if not value.isdigit():
            raise ValueError(
                "Choose a camera; none was found. Connect one, or pick another source."
            )
        return f"camera:{value}"
    if kind not in KINDS:
        raise ValueError(f"unknown source kind {kind!r}; expected one of {', '.join(KINDS)}")
    path = Path(value.strip()).expanduser()
    if not value.strip():
        raise ValueError("Choose a file or folder first.")
    if kind == "video" and not path.is_file():
        raise ValueError(f"{path} is not a file; choose a video file.")
    if kind in ("folder", "slide") and not path.is_dir():
        raise ValueError(f"{path} is not a folder; choose a folder of images.")
    return f"slide:{path}" if kind == "slide" else str(path)


def describe_spec(spec: str) -> tuple[str, str]:
    """The (kind, value) a spec came from, to preselect the dialog with the last source."""
    if spec == "demo" or not spec:
        return "demo", ""
    if spec.startswith("camera:"):
        return "camera", spec.split(":", 1)[1]
    if spec.startswith("slide:"):
        return "slide", spec.split(":", 1)[1]
    return ("folder" if Path(spec).is_dir() else "video"), spec


class SourceDialog(QDialog):
    """Modal picker opened from the Source menu; ``chosen()`` gives (spec, options) after accept."""

    def __init__(self, cameras=(), last_spec: str = "", parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Open source")
        self.group = QButtonGroup(self)
        self.radios = {kind: QRadioButton(text, self) for kind, text in (
            ("camera", "Camera"), ("video", "Video file"), ("folder", "Image folder"),
            ("slide", "Virtual slide from a folder"), ("demo", "Demo slide (built in)"))}
        for radio in self.radios.values():
            self.group.addButton(radio)
        self.camera = QComboBox(self)
        for info in cameras:
            self.camera.addItem(f"{info.index}: {info.name} ({info.backend})", str(info.index))
        if not cameras:
            self.camera.addItem("No camera found", "")
            self.radios["camera"].setEnabled(False)
        self.resolution = QComboBox(self)
        for width, height in RESOLUTIONS:
            self.resolution.addItem(f"{width} × {height}", (width, height))
        self.resolution.setCurrentIndex(2)
        self.fps = QSpinBox(self)
        self.fps.setRange(1, 120)
        self.fps.setValue(30)
        self.paths = {kind: QLineEdit(self) for kind in ("video", "folder", "slide")}
        self.error_label = QLabel("", self)
        self.error_label.setStyleSheet("color: #8a1c13;")
        self.error_label.setWordWrap(True)
        self._layout(cameras)
        kind, value = describe_spec(last_spec)
        if kind == "camera" and not cameras:
            kind, value = "demo", ""
        self.radios[kind].setChecked(True)
        if kind in self.paths:
            self.paths[kind].setText(value)
        self._chosen: tuple[str, dict] | None = None

    def _layout(self, cameras) -> None:
        grid = QGridLayout(self)
        camera_row = QHBoxLayout()
        for widget in (
            self.camera, QLabel("at", self), self.resolution, self.fps, QLabel("fps", self),
        ):
            camera_row.addWidget(widget)
        grid.addWidget(self.radios["camera"], 0, 0)
        grid.addLayout(camera_row, 0, 1)
        for row, kind in enumerate(("video", "folder", "slide"), start=1):
            grid.addWidget(self.radios[kind], row, 0)
            grid.addWidget(self._path_row(kind), row, 1)
        grid.addWidget(self.radios["demo"], 4, 0)
        grid.addWidget(self.error_label, 5, 0, 1, 2)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        grid.addWidget(buttons, 6, 0, 1, 2)

    def _path_row(self, kind: str) -> QWidget:
        row = QWidget(self)
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        browse = QPushButton("Browse…", row)
        browse.clicked.connect(lambda: self._browse(kind))
        layout.addWidget(self.paths[kind], 1)
        layout.addWidget(browse)
        self.paths[kind].textEdited.connect(lambda *_: self.radios[kind].setChecked(True))
        return row

    def _browse(self, kind: str) -> None:
        if kind == "video":
            path, _ = QFileDialog.getOpenFileName(
                self, "Video file", self.paths[kind].text(), VIDEO_FILTER
            )
        else:
            path = QFileDialog.getExistingDirectory(
                self, "Folder of fields", self.paths[kind].text()
            )
        if path:
            self.paths[kind].setText(path)
            self.radios[kind].setChecked(True)

    def kind(self) -> str:
        return next(kind for kind, radio in self.radios.items() if radio.isChecked())

    def current_choice(self) -> tuple[str, dict]:
        """(spec, options) for what is selected; raises ValueError with what is missing."""
        kind = self.kind()
        if kind == "camera":
            width, height = self.resolution.currentData()
            options = {"width": width, "height": height, "fps": float(self.fps.value())}
            return build_spec(kind, self.camera.currentData() or ""), options
        return build_spec(kind, self.paths[kind].text() if kind in self.paths else ""), {}

    def accept(self) -> None:
        try:
            self._chosen = self.current_choice()
        except ValueError as exc:
            self.error_label.setText(str(exc))
            return
        super().accept()

    def chosen(self) -> tuple[str, dict] | None:
        return self._chosen
