"""A virtual slide: real field images tiled into a mosaic and scanned like a live microscope.

Each image becomes one tile (by default as tall as the output, so a dwell on a tile shows
that field the way the camera would show it); the view pans tile to tile in serpentine order
with dwell pauses and defocus while moving. Tiles are loaded and upscaled lazily through a
small cache, so a folder of thousands of images costs the memory of a few tiles.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from allscope.core.frames import SourceError
from allscope.core.sources.images import find_images, load_image
from allscope.core.sources.scan_path import PanPath, PanState, defocus
from allscope.core.sources.viewport import PanningSource, View

GLASS = (232, 234, 236)  # empty slide between tiles when the mosaic is smaller than the view


class VirtualSlideSource(PanningSource):
    """Pans across a mosaic of the images in ``folder`` (recursive, sorted or shuffled)."""

    def __init__(
        self, folder: str | Path, out_size: tuple[int, int] = (1920, 1080), fps: float = 30.0,
        speed_px_s: float | None = None, dwell_s: float = 2.0, defocus: bool = True,
        seed: int = 0, loop: bool = True, *, paced: bool = True, tile_size: int | None = None,
        shuffle: bool = False, cache_tiles: int = 12,
    ) -> None:
        self.folder = Path(folder)
        super().__init__(fps, paced, self.folder.name or "slide")
        if not self.folder.is_dir():
            raise SourceError(
                f"{self.folder}: not a folder; a virtual slide needs a folder of images"
            )
        self.files = find_images([self.folder])
        if not self.files:
            raise SourceError(
                f"{self.folder}: no JPEG, PNG, TIFF or BMP images to build a slide from"
            )
        if shuffle:
            np.random.default_rng(seed).shuffle(self.files)
        self.size, self.seed, self.loop = (int(out_size[0]), int(out_size[1])), seed, loop
        self.speed = speed_px_s or 0.8 * self.size[0]
        self.dwell_s, self.use_defocus = dwell_s, defocus
        self.errors: list[tuple[str, str]] = []
        self.tile = self._tile_shape(tile_size or min(self.size))
        self.cols = math.ceil(math.sqrt(len(self.files)))
        rows = math.ceil(len(self.files) / self.cols)
        self.mosaic = (max(self.cols * self.tile[0], self.size[0]),
                       max(rows * self.tile[1], self.size[1]))
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_size = max(4, cache_tiles)
        self._glass = np.empty((self.size[1], self.size[0], 3), np.uint8)
        self._glass[:] = GLASS

    def describe(self) -> str:
        return (f"virtual slide {self.folder.name} ({len(self.files)} fields, "
                f"{self.size[0]}x{self.size[1]}, {self.fps:g} fps)")

    def _tile_shape(self, height: int) -> tuple[int, int]:
        """Tiles keep the aspect ratio of the first readable image."""
        for path in self.files[:20]:
            try:
                h, w = load_image(path).shape[:2]
                return max(1, round(height * w / h)), int(height)
            except SourceError as exc:
                self._report(path, str(exc))
        raise SourceError(f"{self.folder}: none of the first images could be read "
                          f"({self.errors[-1][1]})")

    def _pan_path(self) -> PanPath:
        tw, th = self.tile
        targets = [((i % self.cols + 0.5) * tw, (i // self.cols + 0.5) * th)
                   for i in range(len(self.files))]
        return PanPath(self.mosaic, self.size, targets, fps=self.fps, speed_px_s=self.speed,
                       dwell_s=self.dwell_s, defocus=self.use_defocus, seed=self.seed,
                       loop=self.loop)

    def _draw(self, state: PanState) -> View:
        (w, h), (tw, th) = self.size, self.tile
        image = self._glass.copy()  # a copy is a memcpy; filling with a colour is much slower
        for row in range(state.y // th, (state.y + h - 1) // th + 1):
            for col in range(state.x // tw, min((state.x + w - 1) // tw + 1, self.cols)):
                self._blit(image, row * self.cols + col, col * tw - state.x, row * th - state.y)
        centre = ((state.y + h // 2) // th) * self.cols + min(
            (state.x + w // 2) // tw, self.cols - 1
        )
        path = str(self.files[centre]) if centre < len(self.files) else None
        return View(defocus(image, state.defocus), None, path,
                    {"tile_index": centre if path else None})

    def _blit(self, image: np.ndarray, index: int, x: int, y: int) -> None:
        """Copy tile ``index`` whose top-left lies at (x, y) in view coordinates."""
        if index >= len(self.files):
            return
        tile = self._tile(index)
        x0, y0 = max(x, 0), max(y, 0)
        x1, y1 = min(x + tile.shape[1], image.shape[1]), min(y + tile.shape[0], image.shape[0])
        if x1 > x0 and y1 > y0:
            image[y0:y1, x0:x1] = tile[y0 - y:y1 - y, x0 - x:x1 - x]

    def _tile(self, index: int) -> np.ndarray:
        """The upscaled tile, from the cache or freshly loaded (grey if unreadable)."""
        if index in self._cache:
            self._cache.move_to_end(index)
            return self._cache[index]
        try:
            tile = _cover(load_image(self.files[index]), self.tile)
        except SourceError as exc:
            self._report(self.files[index], str(exc))
            tile = np.full((self.tile[1], self.tile[0], 3), GLASS, np.uint8)
        self._cache[index] = tile
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return tile

    def _report(self, path: Path, message: str) -> None:
        if not any(p == str(path) for p, _ in self.errors):
            self.errors.append((str(path), message))


def _cover(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Scale to cover ``size`` (w, h) and crop the centre: tiles meet without gaps."""
    (w, h), (ih, iw) = size, image.shape[:2]
    scale = max(w / iw, h / ih)
    sw, sh = max(w, round(iw * scale)), max(h, round(ih * scale))
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    scaled = cv2.resize(image, (sw, sh), interpolation=interpolation)
    x0, y0 = (sw - w) // 2, (sh - h) // 2
    return np.ascontiguousarray(scaled[y0:y0 + h, x0:x0 + w])
