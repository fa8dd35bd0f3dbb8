"""Where captured fields go: the ``FieldStore`` protocol the gallery needs, and an in-memory store.

The gallery never holds a field the store has not acknowledged: the capture writer
(``capture.FieldWriter``) calls ``FieldStore.add_field``, which writes the field durably and
returns a ``GalleryRecord``; only then does the record reach the gallery. The sessions store
plugs in behind the protocol (``session_fields.SessionFieldStore``); ``MemoryFieldStore``
keeps fields in memory for runs without a session (and for tests). Qt-free.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, replace
from typing import Protocol

import cv2
import numpy as np

from allscope.app.cell_words import CellSummary, cell_summary
from allscope.core.results import FieldResult, Flag, MaskResult

DECISIONS = ("accept", "dismiss")
THUMB_WIDTH = 160  # pixels


@dataclass(frozen=True)
class GalleryRecord:
    """One stored field as the gallery knows it."""

    id: int  # the store's field id
    kind: str  # "flag" or "manual"
    thumbnail: np.ndarray  # small BGR image with outlines
    result: FieldResult
    decision: str | None = None  # None (not reviewed), "accept" or "dismiss"
    comment: str = ""
    captured_at: float = 0.0  # time.time()
    cells: CellSummary | None = None  # the field's cells, when a cell model judged them


class FieldStore(Protocol):
    """What the gallery needs from a store. ``add_field`` returns only once the field is durable."""

    def add_field(
        self,
        kind: str,
        frame_bgr: np.ndarray,
        mask: MaskResult | None,
        result: FieldResult,
        flag: Flag | None,
    ) -> GalleryRecord: ...

    def review(self, field_id: int, decision: str | None, comment: str) -> GalleryRecord: ...

    def full_image(self, field_id: int) -> np.ndarray: ...

    def mask(self, field_id: int) -> np.ndarray | None: ...

    def heat_map(self, field_id: int) -> np.ndarray | None:
        """The flag's class activation map (float32 0..1 over the field), or None. Optional:
        the review pane treats a store without this method as having no heat maps."""


class StoreFullError(RuntimeError):
    """The in-memory store holds its maximum; the message says what to do."""


def make_thumbnail(
    frame_bgr: np.ndarray, mask: np.ndarray | None, width: int = THUMB_WIDTH
) -> np.ndarray:
    """A small copy of the field with the WBC outlines, for the gallery."""
    height = max(1, round(frame_bgr.shape[0] * width / frame_bgr.shape[1]))
    thumb = cv2.resize(frame_bgr, (width, height), interpolation=cv2.INTER_AREA)
    if mask is not None and mask.any():
        small = cv2.resize(mask, (width, height), interpolation=cv2.INTER_NEAREST)
        contours, _ = cv2.findContours(small, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(thumb, contours, -1, (255, 255, 0), 1)
    return np.ascontiguousarray(thumb)


class MemoryFieldStore:
    """Keeps up to ``max_fields`` fields in memory as lossless PNG bytes; thread-safe.

    The stand-in for runs without a session: nothing is written to disk. PNG (fast setting)
    keeps a 1920×1080 field at roughly 2-3 MB instead of 6 MB, so the cap bounds memory.
    """

    def __init__(self, max_fields: int = 200) -> None:
        self.max_fields = max_fields
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._records: dict[int, GalleryRecord] = {}
        # image, mask and heat map of each field, as PNG bytes
        self._images: dict[int, tuple[bytes, bytes | None, bytes | None]] = {}
        self._flags: dict[int, Flag | None] = {}

    def add_field(
        self,
        kind: str,
        frame_bgr: np.ndarray,
        mask: MaskResult | None,
        result: FieldResult,
        flag: Flag | None,
    ) -> GalleryRecord:
        mask_array = None if mask is None else mask.mask
        thumb = make_thumbnail(frame_bgr, mask_array)
        image_png = _png(frame_bgr)
        mask_png = None if mask_array is None else _png(mask_array)
        heat = None if flag is None else flag.heat_map
        heat_png = (
            None if heat is None else _png(np.clip(heat * 255.0 + 0.5, 0, 255).astype(np.uint8))
        )
        with self._lock:
            if len(self._records) >= self.max_fields:
                raise StoreFullError(
                    f"{self.max_fields} fields are already held in memory without a session; "
                    "review them or start a session so that fields are saved to disk."
                )
            record = GalleryRecord(next(self._ids), kind, thumb, result, captured_at=time.time(),
                                   cells=cell_summary(result))
            self._records[record.id] = record
            self._images[record.id] = (image_png, mask_png, heat_png)
            self._flags[record.id] = (
                None if flag is None else replace(flag, heat_map=None)
            )  # kept as PNG
        return record

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def take_all(self) -> list[tuple[GalleryRecord, np.ndarray, np.ndarray | None, Flag | None]]:
        """Every field held, oldest first, as (record, image, mask, flag); the store is emptied."""
        with self._lock:
            ids = sorted(self._records)
        taken = [
            (self._records[i], self.full_image(i), self.mask(i), self._flag_with_heat_map(i))
            for i in ids
        ]
        with self._lock:
            for i in ids:
                self._records.pop(i, None)
                self._images.pop(i, None)
                self._flags.pop(i, None)
        return taken

    def _flag_with_heat_map(self, field_id: int) -> Flag | None:
        flag = self._flags.get(field_id)
        return None if flag is None else replace(flag, heat_map=self.heat_map(field_id))

    def review(self, field_id: int, decision: str | None, comment: str) -> GalleryRecord:
        if decision not in (None, *DECISIONS):
            raise ValueError(f"decision must be one of {DECISIONS} or None, got {decision!r}")
        with self._lock:
            if field_id not in self._records:
                raise KeyError(f"no field {field_id!r} in this store")
            record = replace(self._records[field_id], decision=decision, comment=comment)
            self._records[field_id] = record
        return record

    def record(self, field_id: int) -> GalleryRecord:
        """The field as held now, its latest review included."""
        with self._lock:
            if field_id not in self._records:
                raise KeyError(f"no field {field_id!r} in this store")
            return self._records[field_id]

    def full_image(self, field_id: int) -> np.ndarray:
        with self._lock:
            data = self._images[field_id][0]
        return _unpng(data, cv2.IMREAD_COLOR)

    def mask(self, field_id: int) -> np.ndarray | None:
        with self._lock:
            data = self._images[field_id][1]
        return None if data is None else _unpng(data, cv2.IMREAD_GRAYSCALE)

    def heat_map(self, field_id: int) -> np.ndarray | None:
        with self._lock:
            data = self._images[field_id][2]
        if data is None:
            return None
        return _unpng(data, cv2.IMREAD_GRAYSCALE).astype(np.float32) / 255.0


def _unpng(data: bytes, flags: int) -> np.ndarray:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if image is None:  # only if memory was corrupted: the bytes were encoded here
        raise ValueError("a field held in memory could not be decoded")
    return image


def _png(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", image, [cv2.IMWRITE_PNG_COMPRESSION, 1])
    if not ok:
        raise ValueError(f"the field ({image.dtype} {image.shape}) could not be encoded as PNG")
    return data.tobytes()
