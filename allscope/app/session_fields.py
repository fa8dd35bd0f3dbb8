"""The gallery's ``FieldStore`` backed by a session of the SQLite session store.

``add_field`` returns only after ``SessionStore.add_field`` has written the field durably, so
the gallery never shows a field a crash could lose; reviews are appended to the store's audit
trail with the reviewer's name before the gallery shows them.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from allscope.app.cell_words import CellSummary, cell_summary, saved_summary
from allscope.app.field_store import GalleryRecord, MemoryFieldStore, make_thumbnail
from allscope.core.results import FieldResult, Flag, MaskResult
from allscope.core.store import SavedField, SessionStore, StoreError


class SessionFieldStore:
    """Stores the gallery's fields in session ``session_id`` of ``store``."""

    def __init__(self, store: SessionStore, session_id: int, reviewer: str = "",
                 um_per_px: float | None = None) -> None:
        self.store, self.session_id, self.reviewer = store, session_id, reviewer
        self.um_per_px = um_per_px  # the session's scale: saved cells get diameters in µm
        self._records: dict[int, GalleryRecord] = {}
        self._lock = threading.Lock()

    def existing_records(self) -> list[GalleryRecord]:
        """The session's saved fields with their latest review (to resume a session)."""
        records = [
            self._gallery_record(f, self._thumbnail(f),
                                 saved_summary(self.store.cells(field_id=f.id)))
            for f in self.store.fields(self.session_id)
        ]
        with self._lock:
            self._records.update({r.id: r for r in records})
        return records

    def add_field(self, kind: str, frame_bgr: np.ndarray, mask: MaskResult | None,
                  result: FieldResult, flag: Flag | None) -> GalleryRecord:
        mask_array = np.zeros(frame_bgr.shape[:2], np.uint8) if mask is None else mask.mask
        saved = self.store.add_field(self.session_id, kind, frame_bgr, mask_array, result, flag,
                                     um_per_px=self.um_per_px)
        record = self._gallery_record(saved, make_thumbnail(frame_bgr, mask_array),
                                      cell_summary(result))
        with self._lock:
            self._records[record.id] = record
        return record

    def review(self, field_id: int, decision: str | None, comment: str) -> GalleryRecord:
        review = self.store.review(field_id, decision, comment, self.reviewer)
        with self._lock:
            record = self._records.get(field_id)
        if record is None:
            saved = self.store.get_field(field_id)
            cells = saved_summary(self.store.cells(field_id=field_id))
            record = self._gallery_record(saved, self._thumbnail(saved), cells)
        updated = replace(record, decision=review.decision, comment=review.comment)
        with self._lock:
            self._records[field_id] = updated
        return updated

    def full_image(self, field_id: int) -> np.ndarray:
        return _read(self.store.get_field(field_id).image_path, cv2.IMREAD_COLOR)

    def mask(self, field_id: int) -> np.ndarray | None:
        return _read(self.store.get_field(field_id).mask_path, cv2.IMREAD_GRAYSCALE)

    def heat_map(self, field_id: int) -> np.ndarray | None:
        return self.store.heat_map(field_id)

    def _thumbnail(self, saved: SavedField) -> np.ndarray:
        return make_thumbnail(self.full_image(saved.id), self.mask(saved.id))

    @staticmethod
    def _gallery_record(saved: SavedField, thumbnail: np.ndarray,
                        cells: CellSummary | None) -> GalleryRecord:
        review = saved.review
        return GalleryRecord(saved.id, saved.kind, thumbnail, saved.result,
                             None if review is None else review.decision,
                             "" if review is None else review.comment, saved.created_at, cells)


def _read(path: Path, flags: int) -> np.ndarray:
    image = cv2.imread(str(path), flags)
    if image is None:
        raise StoreError(
            f"{path}: the saved image cannot be read; the session folder may be damaged."
        )
    return image


def carry_over(
    memory: MemoryFieldStore, store: SessionStore, session_id: int, reviewer: str
) -> int:
    """Save the fields held in memory before a session into it, oldest first, with their
    reviews; return how many. ``memory`` is emptied (a MemoryFieldStore)."""
    taken = memory.take_all()
    for record, image, mask, flag in taken:
        mask = np.zeros(image.shape[:2], np.uint8) if mask is None else mask
        saved = store.add_field(session_id, record.kind, image, mask, record.result, flag)
        if record.decision is not None or record.comment:
            note = "(reviewed before the session started) "
            store.review(saved.id, record.decision, note + record.comment, reviewer)
    return len(taken)
