"""A saved field as the report shows it: downscaled, with the WBC mask outlined, hash checked;
and, for a flag with a class activation map, the field with that evidence map blended in.

The stored PNG stays the evidence (full resolution, lossless); the page gets a copy of at
most ``max_width`` pixels so that 200 fields make a PDF of reasonable size in seconds.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import cv2
import numpy as np
from PySide6.QtGui import QImage

from allscope.core.cam import overlay
from allscope.core.store import SavedField

OUTLINE_BGR = (0, 200, 255)  # amber: visible on pink/purple stains


@dataclass(frozen=True)
class PageImage:
    image: QImage | None
    image_sha256: str | None  # of the file as read now; None if unreadable
    mask_sha256: str | None
    problem: str | None  # why the stored field could not be shown or verified
    cam: QImage | None = None  # the field with its evidence map, when it has one
    heat_map_sha256: str | None = None  # of the heat-map file as read now

    @property
    def verified(self) -> bool:
        return self.problem is None


def page_image(field: SavedField, max_width: int = 640) -> PageImage:
    """Read, verify and outline one saved field for the page.

    The lossless PNG is hashed (it is the evidence); the picture is drawn from the stored
    JPEG preview when there is one, which is much faster to decode than the full PNG.
    """
    try:
        data = field.image_path.read_bytes()
        mask_data = field.mask_path.read_bytes()
    except OSError as exc:
        return PageImage(None, None, None, f"image file missing or unreadable ({exc.strerror})")
    image_sha = hashlib.sha256(data).hexdigest()
    mask_sha = hashlib.sha256(mask_data).hexdigest()
    image = _preview(field, max_width)
    if image is None:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    mask = cv2.imdecode(np.frombuffer(mask_data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None or mask is None:
        return PageImage(None, image_sha, mask_sha, "image file cannot be decoded")
    if mask.shape != image.shape[:2]:
        mask = cv2.resize(mask, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
    problem = None
    if (image_sha, mask_sha) != (field.image_sha256, field.mask_sha256):
        problem = "SHA-256 differs from the one recorded at capture: the file was changed"
    shown = outlined(image, mask, max_width)
    cam, heat_sha, heat_problem = _cam_image(field, shown)
    problem = "; ".join(p for p in (problem, heat_problem) if p) or None
    return PageImage(_to_qimage(shown), image_sha, mask_sha, problem, cam, heat_sha)


def _cam_image(
    field: SavedField, shown: np.ndarray
) -> tuple[QImage | None, str | None, str | None]:
    """(the outlined field with the heat map blended in, the heat map's SHA-256, a problem)."""
    if field.heat_map_path is None:
        return None, None, None
    try:
        data = field.heat_map_path.read_bytes()
    except OSError as exc:
        return None, None, f"evidence map file missing or unreadable ({exc.strerror})"
    digest = hashlib.sha256(data).hexdigest()
    grey = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        return None, digest, "evidence map file cannot be decoded"
    heat = cv2.resize(grey, (shown.shape[1], shown.shape[0]), interpolation=cv2.INTER_LINEAR)
    problem = None if digest == field.heat_map_sha256 else (
        "evidence map SHA-256 differs from the one recorded at capture: the file was changed")
    return _to_qimage(overlay(shown, heat.astype(np.float32) / 255.0)), digest, problem


def _preview(field: SavedField, max_width: int) -> np.ndarray | None:
    """The stored preview if it exists, decodes, and is no smaller than the page needs."""
    if field.preview_path is None:
        return None
    image = cv2.imread(str(field.preview_path), cv2.IMREAD_COLOR)
    if image is None or image.shape[1] < min(max_width, field.width):
        return None
    return image


class Prefetch:
    """Prepares page images on worker threads a few fields ahead of the one being drawn.

    OpenCV releases the GIL, so decoding overlaps with Qt's JPEG encoding of the page.
    """

    def __init__(self, fields: list[SavedField], max_width: int = 640, window: int = 6) -> None:
        self._fields = fields
        self._max_width = max_width
        self._window = window
        self._pool = ThreadPoolExecutor(max_workers=max(1, min(4, (os.cpu_count() or 2))))
        self._futures: dict[int, Future] = {}
        self._next = 0

    @property
    def fields(self) -> list[SavedField]:
        return self._fields

    def get(self, index: int) -> PageImage:
        while self._next < len(self._fields) and self._next <= index + self._window:
            self._futures[self._next] = self._pool.submit(
                page_image, self._fields[self._next], self._max_width
            )
            self._next += 1
        future = self._futures.pop(index, None)
        return (
            future.result()
            if future is not None
            else page_image(self._fields[index], self._max_width)
        )

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def outlined(image_bgr: np.ndarray, mask: np.ndarray, max_width: int) -> np.ndarray:
    """The field scaled to at most ``max_width`` wide with the mask's contours drawn on it."""
    height, width = image_bgr.shape[:2]
    scale = min(1.0, max_width / width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = (
        cv2.resize(image_bgr, size, interpolation=cv2.INTER_AREA) if scale < 1 else image_bgr.copy()
    )
    small_mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST) if scale < 1 else mask
    contours, _ = cv2.findContours(
        (small_mask > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE
    )
    thickness = max(1, round(size[0] / 320))
    cv2.drawContours(small, contours, -1, OUTLINE_BGR, thickness, lineType=cv2.LINE_AA)
    return small


def _to_qimage(image_bgr: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(cv2.cvtColor(image_bgr, cv2.COLOR_BGR2RGB))
    height, width = rgb.shape[:2]
    return QImage(rgb.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()
