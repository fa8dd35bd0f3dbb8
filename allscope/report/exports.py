"""CSV and JSON export of a session: every recorded per-frame result, plus the saved fields.

Both are written atomically and never overwrite silently (see ``allscope.report``). The CSV has
one row per analysed frame; the JSON also holds the session metadata, the summary, and every
saved field with its full review trail (comments in full, however long).
"""

from __future__ import annotations

import json
from pathlib import Path

from allscope import NOTICE, __version__
from allscope.core.store import SavedField, SessionStore
from allscope.core.store.files import FileWriter
from allscope.core.store.records import result_to_json
from allscope.report.content import iso_time
from allscope.report.tables import number, write_csv_table, write_json_document

CSV_COLUMNS = (
    "session_id", "recorded_at", "frame_id", "frame_index", "source", "name", "wbc_count",
    "mask_coverage", "assessable", "reasons", "label", "p_all", "flagged",
)


def write_csv(store: SessionStore, session_id: int, path: Path | str, *, overwrite: bool = False,
              writer: FileWriter | None = None) -> Path:
    """One row per recorded result, a ``p_<class>`` column per class; returns the path written."""
    header, rows = csv_table(store, session_id)
    return write_csv_table(path, header, rows, overwrite=overwrite, writer=writer)


def csv_table(store: SessionStore, session_id: int) -> tuple[list[str], list[list[object]]]:
    """(header, rows) of the session's per-frame results."""
    store.get_session(session_id)
    results = store.results(session_id)
    classes: list[str] = []
    for row in results:
        classes += [c for c in row["classes"] if c not in classes]
    rows = []
    for row in results:
        probabilities = dict(zip(row["classes"], row["probabilities"] or (), strict=False))
        values = {
            **row,
            "recorded_at": iso_time(row["recorded_at"]),
            "reasons": "; ".join(row["reasons"]),
        }
        rows.append(
            [values[c] for c in CSV_COLUMNS] + [number(probabilities.get(c)) for c in classes]
        )
    return [*CSV_COLUMNS, *(f"p_{c}" for c in classes)], rows


def write_json(store: SessionStore, session_id: int, path: Path | str, *, overwrite: bool = False,
               writer: FileWriter | None = None) -> Path:
    """The whole session as one JSON document; returns the path written."""
    document = session_document(store, session_id)
    return write_json_document(path, document, overwrite=overwrite, writer=writer)


def session_document(store: SessionStore, session_id: int) -> dict:
    session = store.get_session(session_id)
    summary = store.summary(session_id)
    info = session.info
    return {
        "format": 1,
        "allscope_version": __version__,
        "disclaimer": NOTICE,
        "session": {
            "id": session.id,
            "name": session.display_name,
            "started_at": iso_time(session.started_at),
            "ended_at": iso_time(session.ended_at),
            **{k: getattr(info, k) for k in info.__dataclass_fields__},
        },
        "summary": {
            "duration_s": summary.duration_s,
            "analysed": summary.analysed,
            "assessable": summary.assessable,
            "classified": summary.classified,
            "flagged_fields": summary.flagged_fields,
            "captured_fields": summary.captured_fields,
            "class_counts": summary.class_counts,
            "threshold": summary.threshold,
        },
        "results": [
            {**r, "recorded_at": iso_time(r["recorded_at"])} for r in store.results(session_id)
        ],
        "fields": [_field_entry(store, f) for f in store.fields(session_id)],
    }


def _field_entry(store: SessionStore, field: SavedField) -> dict:
    flag = field.flag
    return {
        "id": field.id,
        "kind": field.kind,
        "saved_at": iso_time(field.created_at),
        "image_file": str(field.image_path.relative_to(store.root)),
        "image_sha256": field.image_sha256,
        "mask_file": str(field.mask_path.relative_to(store.root)),
        "mask_sha256": field.mask_sha256,
        "width": field.width,
        "height": field.height,
        "result": json.loads(result_to_json(field.result)),
        "flag": None
        if flag is None
        else {
            "start_frame": flag.start_frame,
            "end_frame": flag.end_frame,
            "label": flag.label,
            "p_all": flag.p_all,
        },
        "reviews": [
            {
                "decision": r.decision,
                "comment": r.comment,
                "reviewer": r.reviewer,
                "at": iso_time(r.created_at),
            }
            for r in store.reviews(field.id)
        ],
    }
