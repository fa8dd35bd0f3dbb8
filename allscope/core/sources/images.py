"""Image files and folders as a frame source, and the one image loader everyone uses.

``load_image`` turns any readable JPEG/PNG/TIFF/BMP into the frame format (C-contiguous uint8
BGR): grayscale is expanded, alpha is composited on white (a slide background), 16-bit and
float images are scaled to 8 bits. A file that cannot be used raises SourceError naming the
file and the reason. ``ImageSource`` reports such files through ``on_error`` and ``errors``
and goes on with the next file, so one bad file never stops a batch.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np

from allscope.core.frames import Frame, FrameSource, SourceError
from allscope.core.sources.image_header import image_size, too_large

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
_SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG": "PNG", b"II*\x00": "TIFF", b"MM\x00*": "TIFF",
               b"BM": "BMP"}


def load_image(path: str | Path) -> np.ndarray:
    """Read one image as C-contiguous uint8 BGR (H, W, 3); SourceError says why it cannot."""
    return read_image(path)[0]


def read_image(path: str | Path) -> tuple[np.ndarray, str | None]:
    """The image and, when only part of it decoded (a damaged JPEG), why it cannot be assessed.

    The file is read as bytes and decoded in memory, never through an OpenCV path API, so
    any file name works; the header's size is checked against the pixel limit first.
    """
    path = Path(path)
    if not path.is_file():
        what = (
            "a folder"
            if path.is_dir()
            else "not a regular file"
            if path.exists()
            else "file not found"
        )
        raise SourceError(f"{path}: {what}; give image files (JPEG, PNG, TIFF, BMP)")
    try:
        data = np.fromfile(path, dtype=np.uint8)  # also reads non-ASCII paths on Windows
    except OSError as exc:
        raise SourceError(
            f"{path}: cannot be read ({exc.strerror or exc}); check its permissions"
        ) from exc
    if data.size == 0:
        raise SourceError(f"{path}: empty file (0 bytes)")
    kind = next((k for sig, k in _SIGNATURES.items() if data[:len(sig)].tobytes() == sig), None)
    if kind is None:
        raise SourceError(f"{path}: not an image (not JPEG, PNG, TIFF or BMP)")
    refused = too_large(image_size(data[: 1 << 20].tobytes(), kind))
    if refused:
        raise SourceError(f"{path}: {refused}")
    if kind == "JPEG" and data[-2048:].tobytes().rfind(b"\xff\xd9") < 0:
        raise SourceError(f"{path}: truncated JPEG (no end-of-image marker); re-export the file")
    try:
        image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise SourceError(
            f"{path}: OpenCV cannot decode it ({str(exc).strip().splitlines()[-1]})"
        ) from exc
    if image is None or image.size == 0:
        raise SourceError(f"{path}: truncated or corrupt {kind} file; re-export the file")
    image = to_bgr8(image)
    return image, grey_tail(image) if kind == "JPEG" else None


def grey_tail(image: np.ndarray, min_fraction: float = 0.04) -> str | None:
    """A JPEG whose data ran out is filled with flat grey below the damage: say so, or None."""
    height = image.shape[0]
    last = image[-1]
    if height < 16 or np.ptp(last) > 0 or not 112 <= int(last[0, 0]) <= 144:
        return None
    flat = np.all(image.reshape(height, -1) == last.reshape(1, -1), axis=1)
    rows = height - (int(np.flatnonzero(~flat)[-1]) + 1 if (~flat).any() else 0)
    if rows == height or rows < max(8, min_fraction * height):
        return None
    return (
        f"partly decoded: the lower {100 * rows / height:.0f}% of the image is missing "
        "(damaged JPEG data); re-export the file"
    )


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


def find_images(
    paths: Iterable[str | Path],
    recursive: bool = True,
    on_error: Callable[[str, str], None] | None = None,
) -> list[Path]:
    """Files named directly, plus the images inside folders (sorted); SourceError if missing.

    Folders that cannot be read, links that loop back and special files named like images
    are told to ``on_error`` (path, reason) instead of being skipped silently.
    """
    report = on_error or (lambda path, message: None)
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += _walk(p, recursive, report)
        elif p.exists():
            found.append(p)
        elif p.is_symlink():
            report(str(p), "a link that points nowhere (or loops); skipped")
        else:
            raise SourceError(f"{p}: no such file or folder")
    return found


def _walk(top: Path, recursive: bool, report: Callable[[str, str], None]) -> list[Path]:
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()

    def unreadable(exc: OSError) -> None:
        report(
            str(exc.filename or top),
            f"folder cannot be read ({exc.strerror or exc}); its images were "
            "not analysed; check its permissions",
        )

    for folder, dirs, files in os.walk(top, onerror=unreadable, followlinks=True):
        stat = os.stat(folder)
        if (stat.st_dev, stat.st_ino) in seen:
            report(folder, "a link back to a folder already searched (a loop); not searched again")
            dirs[:] = []
            continue
        seen.add((stat.st_dev, stat.st_ino))
        for name in sorted(files):
            path = Path(folder) / name
            if path.is_symlink() and not path.exists():
                report(str(path), "a link that loops or points nowhere; skipped")
            elif not name.lower().endswith(IMAGE_SUFFIXES):
                continue
            elif path.is_file():
                found.append(path)
            else:
                report(
                    str(path),
                    "not a regular file (a pipe, socket or device named like an image); skipped",
                )
        if not recursive:
            for name in dirs:
                if name.lower().endswith(IMAGE_SUFFIXES):
                    report(
                        str(Path(folder) / name),
                        "a folder named like an image; skipped (not recursive)",
                    )
        if not recursive:
            dirs[:] = []
        dirs.sort()
    return sorted(found)


class ImageSource(FrameSource):
    """Each image file once, in order; bad files are reported and skipped."""

    def __init__(self, paths: str | Path | Iterable[str | Path], recursive: bool = True,
                 on_error: Callable[[str, str], None] | None = None) -> None:
        super().__init__()
        paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
        self.errors: list[tuple[str, str]] = []
        self._on_error = on_error
        self.files = find_images(paths, recursive, self._report)
        if not self.files and not self.errors:
            names = ", ".join(map(str, paths)) or "(no paths given)"
            raise SourceError(f"no JPEG, PNG, TIFF or BMP images found in {names}")
        self._ids = itertools.count()
        self._description = f"{len(self.files)} image(s) from {', '.join(map(str, paths))}"

    def describe(self) -> str:
        return self._description

    def frames(self) -> Iterator[Frame]:
        for path in self.files:
            if self.stopped:
                return
            try:
                image, damage = read_image(path)
            except SourceError as exc:
                self._report(path, str(exc))
                continue
            except Exception as exc:  # memory, OpenCV, OS: one bad file never stops a batch
                self._report(path, f"{path}: cannot be analysed ({type(exc).__name__}: {exc})")
                continue
            if self.stopped:
                return
            yield Frame(next(self._ids), time.monotonic(), image, self._description, name=path.stem,
                        path=str(path), meta={"damage": damage} if damage else {})

    def _report(self, path: Path | str, message: str) -> None:
        self.errors.append((str(path), message))
        if self._on_error is not None:
            self._on_error(str(path), message)
