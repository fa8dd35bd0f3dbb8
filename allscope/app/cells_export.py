"""The reviewed cells of chosen sessions as a labelled set for site adaptation (no Qt).

A cell is labelled when a person reviewed it (accepted it, or moved it to another type) and did
not dismiss it; its label is its current type. Each is written as one centred crop into
``<folder>/<type>/`` (``blast`` or a class name of the package), the layout ``allscope adapt``
and :func:`allscope.app.adaptation.evaluate` read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from allscope.core.store import SessionStore


def reviewed_cells_to_folder(
    store: SessionStore, session_ids: Iterable[int], folder: Path
) -> dict[str, int]:
    """Write the reviewed, not dismissed cells of ``session_ids``; return the count per type."""
    counts: Counter[str] = Counter()
    images: dict[int, np.ndarray | None] = {}
    for session_id in session_ids:
        for cell in store.cells(session_id=session_id):
            if cell.decision == "dismiss" or not store.cell_reviews(cell.id):
                continue
            if cell.field_id not in images:
                images[cell.field_id] = cv2.imread(str(store.get_field(cell.field_id).image_path))
            crop = _centred_crop(images[cell.field_id], cell.bbox)
            if crop is None:
                continue
            target = folder / cell.current_label
            target.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(target / f"session{session_id}-cell{cell.id}.png"), crop)
            counts[cell.current_label] += 1
    return dict(counts)


def _centred_crop(image: np.ndarray | None, bbox: tuple[int, int, int, int]) -> np.ndarray | None:
    """A square around the cell, twice its size, so that it is the cell nearest the centre."""
    if image is None:
        return None
    x, y, w, h = bbox
    side = 2 * max(w, h)
    cx, cy = x + w // 2, y + h // 2
    height, width = image.shape[:2]
    x0, y0 = max(0, cx - side // 2), max(0, cy - side // 2)
    crop = image[y0 : min(height, y0 + side), x0 : min(width, x0 + side)]
    return crop if crop.size else None
