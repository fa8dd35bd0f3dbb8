"""The live view: the camera field in a pyqtgraph ImageItem, with zoom, pan and three modes.

Modes: ``raw`` (the field as captured), ``overlay`` (WBC mask outlines drawn on the field) and
``masked`` (the field with non-WBC pixels blacked out, what the mask keeps).

Speed: the field is shown at the resolution the screen can use (a 1920×1080 frame in a
960-pixel-wide view is halved with cv2 before Qt sees it), into buffers reused between
frames, as C-contiguous uint8 RGB with no auto-levels and no level mapping at all (pyqtgraph
then hands the array to QImage as RGB888 without rescaling it). Outlines are mask
contours, found once per new mask and drawn with cv2 onto the reduced copy.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QLabel

from allscope.app.scale import scale_bar
from allscope.core.results import MaskResult
from allscope.gui.scale_bar import ScaleBarOverlay

MODES = ("raw", "overlay", "masked")
OUTLINE_RGB = (0, 255, 255)  # cyan stands out against purple nuclei and pink background
SCALE_STEPS = 8  # display scale is rounded up to a multiple of 1/8 to avoid reallocating


class LiveView(pg.GraphicsView):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """Shows a BGR field; ``show_field`` is called from the display timer with the newest one."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setBackground("k")
        self.view = pg.ViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.setCentralItem(self.view)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setAutoDownsample(False)
        self.view.addItem(self.image)
        self.mode = "overlay"
        self.frame_size: tuple[int, int] | None = None  # (width, height) of the last field
        self._buffers: dict[str, np.ndarray] = {}
        self._contours: tuple[int, list[np.ndarray]] | None = None  # (id of mask array, contours)
        self._mask_ref: MaskResult | None = None
        self._placed: tuple | None = (
            None  # (display size, field size) the image transform is set for
        )
        self.count_label = QLabel(self)
        self.count_label.setStyleSheet(
            "background: rgba(0,0,0,150); color: white; padding: 3px 6px;"
        )
        self.count_label.move(8, 8)
        self.count_label.setText("WBC: —")
        self.count_label.adjustSize()
        self.microns_per_pixel: float | None = None
        self.scale_overlay = ScaleBarOverlay(self)

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"display mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode

    def fit(self) -> None:
        """Show the whole field (undo zoom and pan)."""
        if self.frame_size is not None:
            self.view.setRange(QRectF(0, 0, *self.frame_size), padding=0)

    def show_field(self, image: np.ndarray, mask: MaskResult | None, outlines: bool = True) -> None:
        """Display ``image`` (uint8 BGR) in the current mode; ``mask`` may be None (not masked yet).

        ``outlines`` False leaves them off in overlay mode: the caller knows the mask belongs
        to an older frame while the stage moves, so its outlines would trail the cells.
        """
        height, width = image.shape[:2]
        first = self.frame_size is None
        if self.frame_size != (width, height):
            self.frame_size = (width, height)
            self._buffers.clear()
        source = mask.masked if (self.mode == "masked" and mask is not None) else image
        scale = self.display_scale()
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        rgb = self._to_rgb(source, size)
        if self.mode == "overlay" and outlines and mask is not None and mask.candidates:
            cv2.drawContours(rgb, self._scaled_contours(mask, size), -1, OUTLINE_RGB, 2, cv2.LINE_8)
        self.image.setImage(
            rgb, autoLevels=False
        )  # levels stay None: uint8 RGB passes straight to QImage
        if self._placed != (size, (width, height)):  # a new transform makes the view re-measure
            self._placed = (size, (width, height))
            self.image.setRect(QRectF(0, 0, width, height))
        self._set_count(None if mask is None else mask.wbc_count)
        if first:
            self.fit()
        (x0, x1), _ = self.view.viewRange()
        self.scale_overlay.set_bar(
            scale_bar(self.microns_per_pixel, self.view.width() / max(1.0, x1 - x0))
        )

    def display_scale(self) -> float:
        """Screen pixels per field pixel at the current zoom, at most 1, rounded up to 1/8."""
        if self.frame_size is None:
            return 1.0
        (x0, x1), _ = self.view.viewRange()
        screen_width = self.view.sceneBoundingRect().width() * self.devicePixelRatioF()
        visible = max(1.0, x1 - x0)
        scale = min(1.0, screen_width / visible) if screen_width > 0 else 1.0
        return max(1.0 / SCALE_STEPS, math.ceil(scale * SCALE_STEPS) / SCALE_STEPS)

    def displayed_image(self) -> np.ndarray | None:
        """The RGB array last handed to the ImageItem (for tests and screenshots)."""
        return self.image.image

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        buffer = self._buffers.get(name)
        if buffer is None or buffer.shape != shape:
            buffer = self._buffers[name] = np.empty(shape, np.uint8)
        return buffer

    def _to_rgb(self, bgr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
        width, height = size
        if bgr.shape[1] != width or bgr.shape[0] != height:
            small = self._buffer("small", (height, width, 3))
            cv2.resize(bgr, size, dst=small, interpolation=cv2.INTER_LINEAR)
            bgr = small
        rgb = self._buffer("rgb", (height, width, 3))
        cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB, dst=rgb)
        return rgb

    def _scaled_contours(self, mask: MaskResult, size: tuple[int, int]) -> list[np.ndarray]:
        """Mask outlines at display size; found once per mask, not once per frame."""
        if (
            self._contours is None
            or self._contours[0] != id(mask.mask)
            or self._mask_ref is not mask
        ):
            found, _ = cv2.findContours(mask.mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
            self._contours = (id(mask.mask), [c.astype(np.float32) for c in found])
            self._mask_ref = mask
        mask_h, mask_w = mask.mask.shape[:2]
        factor = np.array([size[0] / mask_w, size[1] / mask_h], np.float32)
        return [np.round(c * factor).astype(np.int32) for c in self._contours[1]]

    def _set_count(self, count: int | None) -> None:
        text = "WBC: —" if count is None else f"WBC: {count}"
        if self.count_label.text() != text:
            self.count_label.setText(text)
            self.count_label.adjustSize()
