"""Rows and files behind SessionStore: saved field images, per-frame results, summaries.

Functions here take an open connection and run inside the store's lock; they hold the SQL so
that ``store.py`` reads as the public API.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from allscope.core.ood import OUTSIDE
from allscope.core.results import FieldResult, Flag
from allscope.core.store import records as rec
from allscope.core.store.errors import StoreError
from allscope.core.store.files import FileWriter, atomic_write
from allscope.core.text import printable

PREVIEW_WIDTH = 640

INSERT_RESULT = (
    "INSERT INTO results (session_id, recorded_at, frame_id, timestamp, source, name, frame_index, "
    "wbc_count, mask_coverage, assessable, reasons, classes, probabilities, label, p_all, flagged) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class SavedImages:
    """The files of a field, already durable on disk (the heat map only when there is one)."""

    image: Path
    image_sha256: str
    mask: Path
    mask_sha256: str
    preview: Path
    width: int
    height: int
    heat_map: Path | None = None
    heat_map_sha256: str | None = None

    def remove(self) -> None:
        for path in (self.image, self.mask, self.preview, self.heat_map):
            if path is not None:
                path.unlink(missing_ok=True)


def write_images(folder: Path, frame_bgr: np.ndarray, mask: np.ndarray, writer: FileWriter | None,
                 heat_map: np.ndarray | None = None) -> SavedImages:
    """Encode the field, its mask and its heat map (if any) as PNG and write each atomically."""
    frame_bgr, mask = _checked(frame_bgr, mask)
    heat_png = (
        None if heat_map is None else _png(heat_map_to_uint8(heat_map, frame_bgr.shape), _MASK_PNG)
    )
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"field-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}"
    image_png = _png(frame_bgr, _IMAGE_PNG)
    mask_png = _png(mask, _MASK_PNG)
    files = [
        (f"{stem}.png", image_png), (f"{stem}-mask.png", mask_png),
        (f"{stem}-preview.jpg", _preview(frame_bgr)),
    ]
    if heat_png is not None:
        files.append((f"{stem}-cam.png", heat_png))
    written: list[Path] = []
    try:
        for name, data in files:
            written.append(atomic_write(folder / name, data, overwrite=False, writer=writer))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    height, width = frame_bgr.shape[:2]
    heat = (written[3], _sha(heat_png)) if heat_png is not None else (None, None)
    return SavedImages(
        written[0], _sha(image_png), written[1], _sha(mask_png), written[2], width, height, *heat
    )


def heat_map_to_uint8(heat: np.ndarray, frame_shape: tuple[int, ...]) -> np.ndarray:
    """The 0..1 float heat map as 0..255 grey, checked against the field's size."""
    heat = np.asarray(heat)
    if heat.shape != tuple(frame_shape[:2]):
        raise ValueError(
            f"The heat map's shape {heat.shape} differs from the field's {tuple(frame_shape[:2])}."
        )
    if heat.dtype == np.uint8:
        return np.ascontiguousarray(heat)
    return np.clip(heat.astype(np.float32) * 255.0 + 0.5, 0, 255).astype(np.uint8)


def read_heat_map(path: Path) -> np.ndarray:
    """A stored heat map as float32 in 0..1 (8-bit steps); StoreError when unreadable."""
    grey = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if grey is None:
        raise StoreError(
            f"{path}: the saved heat map cannot be read; the session folder may be damaged."
        )
    return grey.astype(np.float32) / 255.0


def _preview(image: np.ndarray) -> bytes:
    """A small JPEG of the field: what galleries and reports draw (the PNG stays the evidence)."""
    height, width = image.shape[:2]
    if width > PREVIEW_WIDTH:
        size = (PREVIEW_WIDTH, max(1, round(height * PREVIEW_WIDTH / width)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    if not ok:
        raise ValueError("The field preview could not be encoded as JPEG.")
    return buffer.tobytes()


def _checked(frame: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if (
        not isinstance(frame, np.ndarray)
        or frame.dtype != np.uint8
        or frame.ndim != 3
        or frame.shape[2] != 3
    ):
        raise ValueError("A field image must be a uint8 BGR array of shape (H, W, 3).")
    mask = np.asarray(mask)
    if mask.shape != frame.shape[:2]:
        raise ValueError(
            f"The mask's shape {mask.shape} differs from the field's {frame.shape[:2]}."
        )
    if mask.dtype != np.uint8:
        mask = np.where(mask > 0, 255, 0).astype(np.uint8)
    return np.ascontiguousarray(frame), np.ascontiguousarray(mask)


def _png_params(strategy: str | None) -> list[int]:
    """Fast lossless settings: camera noise defeats slow compression, so favour speed."""
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1]
    if strategy and hasattr(cv2, strategy):
        params += [cv2.IMWRITE_PNG_STRATEGY, getattr(cv2, strategy)]
    if hasattr(cv2, "IMWRITE_PNG_FILTER"):  # OpenCV >= 4.11
        params += [cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]
    return params


_IMAGE_PNG = _png_params("IMWRITE_PNG_STRATEGY_HUFFMAN_ONLY")
_MASK_PNG = _png_params(None)


def _png(image: np.ndarray, params: list[int]) -> bytes:
    ok, buffer = cv2.imencode(".png", image, params)
    if not ok:
        raise ValueError("The field image could not be encoded as PNG.")
    return buffer.tobytes()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def insert(
    conn: sqlite3.Connection, session_id: int, kind: str, saved: SavedImages, result: FieldResult,
    flag: Flag | None, root: Path,
) -> rec.SavedField:
    created = time.time()
    cur = conn.execute(
        "INSERT INTO fields (session_id, kind, created_at, image_file, image_sha256, mask_file, "
        "mask_sha256, preview_file, width, height, result, flag, heat_map_file, heat_map_sha256) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            session_id, kind, created, saved.image.relative_to(root).as_posix(), saved.image_sha256,
            saved.mask.relative_to(root).as_posix(), saved.mask_sha256,
            saved.preview.relative_to(root).as_posix(), saved.width, saved.height,
            rec.result_to_json(result), rec.flag_to_json(flag),
            None if saved.heat_map is None else saved.heat_map.relative_to(root).as_posix(),
            saved.heat_map_sha256,
        ),
    )  # autocommit: committed when execute returns
    return rec.SavedField(
        inserted_id(cur), session_id, kind, created, saved.image, saved.image_sha256,
        saved.mask, saved.mask_sha256, saved.width, saved.height, result, flag, None, saved.preview,
        saved.heat_map, saved.heat_map_sha256,
    )


_SELECT_FIELDS = (
    "SELECT f.*, r.id AS r_id, r.decision AS r_decision, r.comment AS r_comment, "
    "r.reviewer AS r_reviewer, r.created_at AS r_created_at FROM fields f "
    "LEFT JOIN reviews r ON r.id = (SELECT max(id) FROM reviews WHERE field_id = f.id) "
)


def select(
    conn: sqlite3.Connection, root: Path, where: str, params: tuple[Any, ...]
) -> list[rec.SavedField]:
    rows = conn.execute(_SELECT_FIELDS + f"WHERE {where} ORDER BY f.id", params).fetchall()
    return [_field_from_row(row, root) for row in rows]


def _field_from_row(row: sqlite3.Row, root: Path) -> rec.SavedField:
    try:
        result = rec.result_from_json(row["result"])
        flag = rec.flag_from_json(row["flag"], result)
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
    ) as exc:  # damaged record text: shown as such, never guessed
        result = rec.damaged_result(row["id"], exc)
        flag = None
    review = None
    if row["r_id"] is not None:
        review = rec.ReviewRecord(
            row["r_id"], row["id"], row["r_decision"], row["r_comment"], row["r_reviewer"],
            row["r_created_at"],
        )
    return rec.SavedField(
        row["id"], row["session_id"], row["kind"], row["created_at"],
        root / row["image_file"], row["image_sha256"], root / row["mask_file"], row["mask_sha256"],
        row["width"], row["height"], result, flag, review,
        root / row["preview_file"] if row["preview_file"] else None,
        root / row["heat_map_file"] if row["heat_map_file"] else None, row["heat_map_sha256"],
    )


def review_from_row(row: sqlite3.Row) -> rec.ReviewRecord:
    return rec.ReviewRecord(
        row["id"], row["field_id"], row["decision"], row["comment"], row["reviewer"],
        row["created_at"],
    )


def result_row(session_id: int, r: FieldResult) -> tuple[Any, ...]:
    probabilities = (
        None
        if r.probabilities is None
        else json.dumps([round(float(p), 6) for p in r.probabilities])
    )
    return (
        session_id, time.time(), int(r.frame_id), float(r.timestamp), printable(r.source),
        printable(r.name), r.frame_index, int(r.wbc_count), float(r.mask_coverage),
        int(bool(r.assessable)),
        json.dumps(list(r.reasons), ensure_ascii=False),
        json.dumps(list(r.classes), ensure_ascii=False), probabilities, r.label,
        None if r.p_all is None else float(r.p_all), int(bool(r.flagged)),
    )


def select_results(conn: sqlite3.Connection, session_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT * FROM results WHERE session_id = ? ORDER BY id", (session_id,)
    ).fetchall()
    out = []
    for row in rows:
        item = {k: row[k] for k in row.keys() if k != "id"}  # noqa: SIM118 - a Row iterates values
        item["assessable"] = bool(item["assessable"])
        item["flagged"] = bool(item["flagged"])
        try:
            for key in ("reasons", "classes"):
                item[key] = _json_list(item[key])
            item["probabilities"] = (
                None if item["probabilities"] is None else _json_list(item["probabilities"])
            )
        except (ValueError, TypeError) as exc:
            item.update(
                reasons=[f"{rec.DAMAGED}: {exc}"],
                classes=[],
                probabilities=None,
                label=None,
                p_all=None,
            )
        out.append(item)
    return out


def _json_list(text: str) -> list[Any]:
    value = json.loads(text)
    if not isinstance(value, list):
        raise ValueError(f"expected a list, found {type(value).__name__}")
    return value


def summarise(conn: sqlite3.Connection, session: rec.SessionRecord) -> rec.SessionSummary:
    sid = session.id
    analysed, assessable, classified, flagged = conn.execute(
        "SELECT count(*), coalesce(sum(assessable), 0), count(probabilities), "
        "coalesce(sum(flagged), 0) "
        "FROM results WHERE session_id = ?",
        (sid,),
    ).fetchone()
    counts = dict(conn.execute(
        "SELECT label, count(*) FROM results WHERE session_id = ? AND label IS NOT NULL "
        "AND probabilities IS NOT NULL GROUP BY label ORDER BY label",
        (sid,),
    ).fetchall())
    kinds = dict(
        conn.execute(
            "SELECT kind, count(*) FROM fields WHERE session_id = ? GROUP BY kind", (sid,)
        ).fetchall()
    )
    outside = conn.execute(
        "SELECT count(*) FROM results WHERE session_id = ? AND instr(reasons, ?) > 0",
        (sid, json.dumps(OUTSIDE, ensure_ascii=False)),
    ).fetchone()[0]
    return rec.SessionSummary(
        session_id=sid, started_at=session.started_at, ended_at=session.ended_at,
        analysed=analysed, assessable=assessable, classified=classified, flagged_results=flagged,
        flagged_fields=kinds.get("flag", 0), captured_fields=kinds.get("manual", 0),
        class_counts=counts, threshold=session.info.threshold, outside=outside,
    )


def inserted_id(cursor: sqlite3.Cursor) -> int:
    """The id SQLite gave the row an INSERT just added."""
    if cursor.lastrowid is None:
        raise StoreError("The database did not report the new row's id; nothing else was changed.")
    return cursor.lastrowid
