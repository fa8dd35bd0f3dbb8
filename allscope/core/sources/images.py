"""Image files and folders as a frame source, and the one image loader everyone uses.

``load_image`` turns any readable JPEG/PNG/TIFF/BMP into the frame format (C-contiguous uint8
BGR): grayscale is expanded, alpha is composited on white (a slide background), 16-bit and
float images are scaled to 8 bits. A file that cannot be used raises SourceError naming the
file and the reason. ``ImageSource`` reports such files through ``on_error`` and ``errors``
and goes on with the next file, so one bad file never stops a batch.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from allscope.core.frames import Frame, FrameSource, SourceError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG": "PNG", b"II*\x00": "TIFF", b"MM\x00*": "TIFF",
               b"BM": "BMP"}


def load_image(path: str | Path) -> np.ndarray:
    """Read one image as C-contiguous uint8 BGR (H, W, 3); SourceError says why it cannot."""
    path = Path(path)
    if not path.is_file():
        raise SourceError(f"{path}: file not found")
    data = np.fromfile(path, dtype=np.uint8)  # also reads non-ASCII paths on Windows
    if data.size == 0:
        raise SourceError(f"{path}: empty file (0 bytes)")
    kind = next((k for sig, k in _SIGNATURES.items() if data[:len(sig)].tobytes() == sig), None)
    if kind is None:
        raise SourceError(f"{path}: not an image (not JPEG, PNG, TIFF or BMP)")
    if kind == "JPEG" and data[-2048:].tobytes().rfind(b"\xff\xd9") < 0:
        raise SourceError(f"{path}: truncated JPEG (no end-of-image marker); re-export the file")
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise SourceError(f"{path}: truncated or corrupt {kind} file; re-export the file")
    return to_bgr8(image)


def to_bgr8(image: np.ndarray) -> np.ndarray:
    """Any decoded image (gray, gray+alpha, BGR, BGRA; 8/16-bit or float) as uint8 BGR."""
    image = _to_uint8(image)
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 1:
        image = cv2.cvtColor(image[..., 0], cv2.COLOR_GRAY2BGR)
    elif image.shape[2] == 2:  # gray + alpha
        image = _over_white(cv2.cvtColor(image[..., 0], cv2.COLOR_GRAY2BGR), image[..., 1])
    elif image.shape[2] == 4:
        image = _over_white(image[..., :3], image[..., 3])
    return np.ascontiguousarray(image)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """Full-scale mapping: 65535 → 255 for 16-bit; [0, 1] floats → [0, 255]."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return ((image.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    if np.issubdtype(image.dtype, np.floating):
        top = 1.0 if float(np.nanmax(image)) <= 1.0 else 255.0
        return np.clip(np.nan_to_num(image) * (255.0 / top) + 0.5, 0, 255).astype(np.uint8)
    return np.clip(image, 0, 255).astype(np.uint8)


def _over_white(bgr: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha.astype(np.float32)[..., None] / 255.0
    return (bgr.astype(np.float32) * a + 255.0 * (1.0 - a) + 0.5).astype(np.uint8)


def find_images(paths: Iterable[str | Path], recursive: bool = True) -> list[Path]:
    """Files named directly, plus the images inside folders (sorted); SourceError if missing."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            pattern = p.rglob("*") if recursive else p.glob("*")
            found += sorted(
                f for f in pattern if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
            )
        elif p.exists():
            found.append(p)
        else:
            raise SourceError(f"{p}: no such file or folder")
    return found


class ImageSource(FrameSource):
    """Each image file once, in order; bad files are reported and skipped."""

    def __init__(self, paths: str | Path | Iterable[str | Path], recursive: bool = True,
                 on_error: Callable[[str, str], None] | None = None) -> None:
        super().__init__()
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        self.files = find_images(paths, recursive)
        if not self.files:
            names = ", ".join(map(str, paths)) or "(no paths given)"
            raise SourceError(f"no JPEG, PNG, TIFF or BMP images found in {names}")
        self.errors: list[tuple[str, str]] = []
        self._on_error = on_error
        self._ids = itertools.count()
        self._description = f"{len(self.files)} image(s) from {', '.join(map(str, paths))}"

    def describe(self) -> str:
        return self._description

    def frames(self) -> Iterator[Frame]:
        for path in self.files:
            if self.stopped:
                return
            try:
                image = load_image(path)
            except SourceError as exc:
                self._report(path, str(exc))
                continue
            if self.stopped:
                return
            yield Frame(next(self._ids), time.monotonic(), image, self._description, name=path.stem,
                        path=str(path))

    def _report(self, path: Path, message: str) -> None:
        self.errors.append((str(path), message))
        if self._on_error is not None:
            self._on_error(str(path), message)
