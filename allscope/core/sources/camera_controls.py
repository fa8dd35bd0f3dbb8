"""Camera backends, enumeration and the mapping of named controls onto OpenCV properties.

Drivers differ: a control may be missing (``get`` answers -1), refuse a value (``set``
answers False), or take it and round it. So every control is read back after it is set,
and callers see what the driver actually granted, never what was asked.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import cv2

from allscope.core.frames import SourceError

BACKENDS = {"v4l2": cv2.CAP_V4L2, "dshow": cv2.CAP_DSHOW, "msmf": cv2.CAP_MSMF,
            "avfoundation": cv2.CAP_AVFOUNDATION, "any": cv2.CAP_ANY}

# Manual value controls, and the automatic mode that must be off for them to take effect.
VALUES = {"exposure": cv2.CAP_PROP_EXPOSURE, "gain": cv2.CAP_PROP_GAIN,
          "white_balance": cv2.CAP_PROP_WB_TEMPERATURE, "brightness": cv2.CAP_PROP_BRIGHTNESS,
          "focus": cv2.CAP_PROP_FOCUS}
AUTOS = {"auto_exposure": cv2.CAP_PROP_AUTO_EXPOSURE, "auto_white_balance": cv2.CAP_PROP_AUTO_WB,
         "auto_focus": cv2.CAP_PROP_AUTOFOCUS}
AUTO_OF = {"exposure": "auto_exposure", "white_balance": "auto_white_balance",
           "focus": "auto_focus"}
CONTROL_NAMES = tuple(VALUES) + tuple(AUTOS)


@dataclass(frozen=True, slots=True)
class CameraInfo:
    """A camera found by ``enumerate_cameras``: the index to open, a name, the backend."""

    index: int
    name: str
    backend: str


@dataclass(frozen=True, slots=True)
class ControlInfo:
    """What the driver reports for one control; ``auto`` is None for controls with no auto mode."""

    supported: bool
    value: float | None
    auto: bool | None = None


def default_backend() -> int:
    """V4L2 on Linux, DirectShow on Windows (more controls, fast open), AVFoundation on macOS."""
    if sys.platform.startswith("linux"):
        return cv2.CAP_V4L2
    if sys.platform == "win32":
        return cv2.CAP_DSHOW
    if sys.platform == "darwin":
        return cv2.CAP_AVFOUNDATION
    return cv2.CAP_ANY


def backend_id(backend: str | int | None) -> int:
    if backend is None:
        return default_backend()
    if isinstance(backend, int):
        return backend
    try:
        return BACKENDS[backend.lower()]
    except KeyError:
        raise SourceError(
            f"unknown camera backend {backend!r}; use one of {', '.join(BACKENDS)}"
        ) from None


def backend_name(backend: int) -> str:
    return next((k.upper() for k, v in BACKENDS.items() if v == backend), str(backend))


def _auto_values(backend: int) -> tuple[float, float]:
    """(manual, automatic) values of CAP_PROP_AUTO_EXPOSURE: V4L2 uses its menu, others
    0.25/0.75."""
    return (1.0, 3.0) if backend == cv2.CAP_V4L2 else (0.25, 0.75)


def set_control(cap: cv2.VideoCapture, backend: int, name: str, value: float | bool) -> bool:
    """Set one named control; a manual value first turns its auto mode off. True if accepted."""
    if name in AUTOS:
        on = bool(value)
        raw = _auto_values(backend)[on] if name == "auto_exposure" else float(on)
        return bool(cap.set(AUTOS[name], raw))
    if name not in VALUES:
        raise ValueError(f"unknown camera control {name!r}; use one of {', '.join(CONTROL_NAMES)}")
    if name in AUTO_OF:
        set_control(cap, backend, AUTO_OF[name], False)
    return bool(cap.set(VALUES[name], float(value)))


def request_format(cap: cv2.VideoCapture, width: int | None = None, height: int | None = None,
                   fps: float | None = None) -> None:
    """Ask for a size and rate; a size comes with MJPG, which USB cameras need for 1080p30."""
    if width or height:
        mjpg = cv2.VideoWriter_fourcc(*"MJPG")  # type: ignore[attr-defined]  # not in cv2's stubs
        cap.set(cv2.CAP_PROP_FOURCC, mjpg)
    if width:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, float(width))
    if height:
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, float(height))
    if fps:
        cap.set(cv2.CAP_PROP_FPS, float(fps))


def fourcc_text(cap: cv2.VideoCapture) -> str:
    """The pixel format as four letters ("MJPG", "YUYV"), or "" when the driver does not say."""
    code = int(cap.get(cv2.CAP_PROP_FOURCC))
    text = "".join(chr((code >> 8 * i) & 0xFF) for i in range(4))
    return text if code > 0 and text.isprintable() else ""


def read_controls(cap: cv2.VideoCapture, backend: int, refused: set[str]) -> dict[str, ControlInfo]:
    """Every value control as the driver reports it now (-1 from ``get`` means not there)."""
    out = {}
    manual = _auto_values(backend)[0]
    for name, prop in VALUES.items():
        value = cap.get(prop)
        auto = None
        if name in AUTO_OF:
            raw = cap.get(AUTOS[AUTO_OF[name]])
            auto = None if raw == -1 else (raw != manual if name == "exposure" else raw > 0.5)
        supported = value != -1 and name not in refused
        out[name] = ControlInfo(supported, value if value != -1 else None, auto)
    return out


def enumerate_cameras(max_index: int = 8, sysfs: str | Path = "/sys/class/video4linux",
                      backend: str | int | None = None) -> list[CameraInfo]:
    """Cameras present now. On Linux from sysfs names, without opening any device."""
    bid = backend_id(backend)
    if sys.platform.startswith("linux") and bid in (cv2.CAP_V4L2, cv2.CAP_ANY):
        return _linux_cameras(Path(sysfs))
    found = []
    for index in range(max_index):
        cap = cv2.VideoCapture(index, bid)
        if cap.isOpened():
            found.append(CameraInfo(index, f"Camera {index}", cap.getBackendName()))
        cap.release()
    return found


def _linux_cameras(sysfs: Path) -> list[CameraInfo]:
    """Capture nodes only: a UVC camera also creates a metadata node whose ``index`` is 1."""
    found = []
    for node in sysfs.glob("video*"):
        number = node.name[len("video"):]
        if not number.isdigit():
            continue
        index_file = node / "index"
        if index_file.is_file() and index_file.read_text().strip() not in ("", "0"):
            continue
        name_file = node / "name"
        name = name_file.read_text().strip() if name_file.is_file() else f"Video device {number}"
        found.append(CameraInfo(int(number), name, "V4L2"))
    return sorted(found, key=lambda c: c.index)
