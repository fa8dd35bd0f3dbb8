"""Saved cells, their review trail, the slide tally and model activations (schema v4).

The API the cell review of the desktop app calls, all on :class:`SessionStore`:

- ``add_field(..., um_per_px=None)`` also saves every cell the field's result carries
  (``result.cells``), in the same transaction as the field: bounding box, contour, area,
  diameter (µm when ``um_per_px`` is given), the label as called (``blast`` when called a
  blast, else the most probable other class), the probabilities, P(blast), is_blast, the
  threshold and cell package in force, the slide position and the live track id. Saved
  cells never change (a trigger refuses UPDATE).
- ``cells(session_id=None, field_id=None)`` → ``[CellRecord]`` with each cell's current
  state: ``current_label`` (its label after the latest reclassification) and ``decision``
  (``accept``/``dismiss`` or None, the latest of those).
- ``review_cell(cell_id, action, label=None, comment="", reviewer="")`` appends one record
  to the audit trail: ``reclassify`` (with the new ``label``, e.g. a digit key per type),
  ``accept`` or ``dismiss`` (not a white cell / not to be counted). Rows are never updated
  or deleted (triggers), except with their session.
- ``cell_reviews(cell_id)`` → the trail, oldest first.
- ``record_tally(session_id, counted)`` stores the distinct cells a tally counted: the live
  slide tally's (``CellTracker``; call it now and then and when the session ends) or a batch
  run's (``BatchTally``: every analysed field's cells, the unsaved fields' too). Saved cells
  name theirs by ``track_id``.
- ``cell_tally(session_id, target=100)`` → ``Tally``: every distinct cell of the session
  (the recorded tally's cells, plus saved cells of untracked fields) with the reclassifications
  applied and dismissed cells removed; blasts are cells whose current label is ``blast``.
- ``record_activation(kind, package_path, package_sha256, previous_sha256, figures,
  reviewer)`` and ``activations()``: the append-only trail of model packages put in force
  (e.g. a site-adapted cell package).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from allscope.core.cells.tally import Tally, called_label, tally_of
from allscope.core.results import FieldResult

if TYPE_CHECKING:
    from allscope.core.cells.tracking import Track

ACTIONS = ("reclassify", "accept", "dismiss")


class CountedCells(Protocol):
    """The distinct cells a tally counted, as ``CellTracker`` (live) and ``BatchTally`` (a batch
    run) hold them: one ``Track`` each, its ``id`` what saved cells name as ``track_id``."""

    @property
    def blast_class(self) -> str: ...

    @property
    def tracks(self) -> Sequence[Track]: ...


@dataclass(frozen=True)
class CellRecord:
    """One saved cell as judged, and its current review state."""

    id: int
    field_id: int
    session_id: int
    cell_index: int
    bbox: tuple[int, int, int, int]
    contour: tuple[tuple[int, int], ...]
    area_px: int
    diameter_px: float
    diameter_um: float | None
    touches_border: bool
    label: str  # as called by the model
    probabilities: dict[str, float]
    p_blast: float
    is_blast: bool
    threshold: float
    model: str
    slide_xy: tuple[float, float] | None
    track_id: int | None
    current_label: str  # after the latest reclassification
    decision: str | None  # latest "accept" or "dismiss", None when not decided


@dataclass(frozen=True)
class CellReviewRecord:
    id: int
    cell_id: int
    action: str
    label: str | None
    comment: str
    reviewer: str
    created_at: float


@dataclass(frozen=True)
class ActivationRecord:
    id: int
    kind: str
    package_path: str
    package_sha256: str
    previous_sha256: str
    figures: dict[str, Any]
    reviewer: str
    created_at: float


_INSERT = (
    "INSERT INTO cells (field_id, session_id, cell_index, x, y, width, height, contour, area_px, "
    "diameter_px, diameter_um, touches_border, label, probabilities, p_blast, is_blast, "
    "threshold, model, slide_x, slide_y, track_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def insert_cells(
    conn: sqlite3.Connection,
    field_id: int,
    session_id: int,
    result: FieldResult,
    um_per_px: float | None,
    blast_class: str = "blast",
) -> int:
    """Save the cells of ``result`` (none when it carries no judged cells); their count."""
    cells = result.cells
    if cells is None or not cells.judged:
        return 0
    ids = cells.track_ids or (None,) * len(cells.calls)
    rows = []
    for call, track in zip(cells.calls, ids, strict=True):
        cell = call.cell
        slide = (
            None
            if result.origin is None
            else (result.origin[0] + cell.centroid[0], result.origin[1] + cell.centroid[1])
        )
        rows.append(
            (
                field_id,
                session_id,
                cell.index,
                *cell.bbox,
                json.dumps(cell.contour.tolist()),
                cell.area_px,
                round(cell.diameter_px, 3),
                None if not um_per_px else round(cell.diameter_px * um_per_px, 3),
                int(cell.touches_border),
                called_label(call.probabilities, call.is_blast, blast_class),
                json.dumps({k: round(v, 6) for k, v in call.probabilities.items()}),
                float(call.p_blast),
                int(call.is_blast),
                cells.threshold,
                cells.model,
                None if slide is None else slide[0],
                None if slide is None else slide[1],
                track,
            )
        )
    conn.executemany(_INSERT, rows)
    return len(rows)


_SELECT = (
    "SELECT c.*, "
    "(SELECT label FROM cell_reviews WHERE cell_id = c.id AND action = 'reclassify' "
    " ORDER BY id DESC LIMIT 1) AS new_label, "
    "(SELECT action FROM cell_reviews WHERE cell_id = c.id AND action != 'reclassify' "
    " ORDER BY id DESC LIMIT 1) AS decision "
    "FROM cells c "
)


def select_cells(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[CellRecord]:
    rows = conn.execute(
        _SELECT + f"WHERE {where} ORDER BY c.field_id, c.cell_index", params
    ).fetchall()
    return [_record(row) for row in rows]


def _record(r: sqlite3.Row) -> CellRecord:
    slide = None if r["slide_x"] is None else (r["slide_x"], r["slide_y"])
    return CellRecord(
        r["id"],
        r["field_id"],
        r["session_id"],
        r["cell_index"],
        (r["x"], r["y"], r["width"], r["height"]),
        tuple((int(x), int(y)) for x, y in json.loads(r["contour"])),
        r["area_px"],
        r["diameter_px"],
        r["diameter_um"],
        bool(r["touches_border"]),
        r["label"],
        json.loads(r["probabilities"]),
        r["p_blast"],
        bool(r["is_blast"]),
        r["threshold"],
        r["model"],
        slide,
        r["track_id"],
        r["new_label"] or r["label"],
        r["decision"],
    )


def insert_review(
    conn: sqlite3.Connection,
    cell: CellRecord,
    action: str,
    label: str | None,
    comment: str,
    reviewer: str,
) -> CellReviewRecord:
    if action not in ACTIONS:
        raise ValueError(f"A cell review action is one of {', '.join(ACTIONS)}, not {action!r}.")
    if (action == "reclassify") != bool(label):
        raise ValueError("A reclassification names the new label; accept and dismiss do not.")
    now = time.time()
    cur = conn.execute(
        "INSERT INTO cell_reviews (cell_id, session_id, action, label, comment, reviewer, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (cell.id, cell.session_id, action, label, comment or "", reviewer or "", now),
    )
    return CellReviewRecord(
        int(cur.lastrowid or 0), cell.id, action, label, comment or "", reviewer or "", now
    )


def select_reviews(conn: sqlite3.Connection, cell_id: int) -> list[CellReviewRecord]:
    rows = conn.execute(
        "SELECT * FROM cell_reviews WHERE cell_id = ? ORDER BY id", (cell_id,)
    ).fetchall()
    return [
        CellReviewRecord(
            r["id"],
            r["cell_id"],
            r["action"],
            r["label"],
            r["comment"],
            r["reviewer"],
            r["created_at"],
        )
        for r in rows
    ]


def save_tally(conn: sqlite3.Connection, session_id: int, counted: CountedCells) -> int:
    """Store (replace) the distinct cells of a tally; their count."""
    rows = [
        (session_id, t.id, t.label(counted.blast_class), t.p_blast, t.x, t.y, t.sightings)
        for t in list(counted.tracks)
        if t.sightings
    ]
    conn.executemany("INSERT OR REPLACE INTO tally_cells VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def session_tally(
    conn: sqlite3.Connection, session_id: int, target: int, blast_class: str = "blast"
) -> Tally:
    """Each distinct cell once, reviewed labels applied, dismissed cells left out."""
    labels: dict[tuple[str, int], str] = {
        ("track", r["track_id"]): r["label"]
        for r in conn.execute(
            "SELECT track_id, label FROM tally_cells WHERE session_id = ?", (session_id,)
        )
    }
    saved = select_cells(conn, "c.session_id = ?", (session_id,))
    classes = list(dict.fromkeys(k for cell in saved for k in cell.probabilities))
    for cell in saved:
        if cell.track_id is None and cell.slide_xy is not None:
            continue  # tracked live but never counted (a partly hidden cell at the border)
        key = ("track", cell.track_id) if cell.track_id is not None else ("cell", cell.id)
        if cell.decision == "dismiss":
            labels.pop(key, None)
            continue
        reviewed = cell.current_label != cell.label
        if reviewed or key not in labels:
            labels[key] = cell.current_label
    return tally_of(labels.values(), classes, blast_class, target)


def insert_activation(
    conn: sqlite3.Connection,
    kind: str,
    package_path: str,
    package_sha256: str,
    previous_sha256: str,
    figures: dict[str, Any],
    reviewer: str,
) -> ActivationRecord:
    now = time.time()
    cur = conn.execute(
        "INSERT INTO model_activations (kind, package_path, package_sha256, previous_sha256, "
        "figures, reviewer, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (kind, package_path, package_sha256, previous_sha256, json.dumps(figures), reviewer, now),
    )
    return ActivationRecord(
        int(cur.lastrowid or 0),
        kind,
        package_path,
        package_sha256,
        previous_sha256,
        figures,
        reviewer,
        now,
    )


def select_activations(conn: sqlite3.Connection) -> list[ActivationRecord]:
    rows = conn.execute("SELECT * FROM model_activations ORDER BY id").fetchall()
    return [
        ActivationRecord(
            r["id"],
            r["kind"],
            r["package_path"],
            r["package_sha256"],
            r["previous_sha256"],
            json.loads(r["figures"]),
            r["reviewer"],
            r["created_at"],
        )
        for r in rows
    ]
