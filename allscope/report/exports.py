"""CSV and JSON export of a session: every recorded per-frame result, plus the saved fields.

Both are written atomically and never overwrite silently (see ``allscope.report``). The CSV has
one row per analysed frame; the JSON also holds the session metadata, the summary, and every
saved field with its full review trail (comments in full, however long).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from allscope import __version__
from allscope.core.store import FieldRecord, SessionStore
from allscope.core.store.files import FileWriter, write_new
from allscope.core.store.records import result_to_json
from allscope.report.content import DISCLAIMER, iso_time

CSV_COLUMNS = (
    "session_id",
    "recorded_at",
    "frame_id",
    "frame_index",
    "source",
    "name",
    "wbc_count",
    "mask_coverage",
    "assessable",
    "reasons",
    "label",
    "p_all",
    "flagged",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def write_csv(store: SessionStore, session_id: int, path: Path | str, *, overwrite: bool = False,
              writer: FileWriter | None = None) -> Path:
    """One row per recorded result, a ``p_<class>`` column per class; returns the path written."""
    return write_new(Path(path), csv_bytes(store, session_id), overwrite=overwrite, writer=writer)


def csv_bytes(store: SessionStore, session_id: int) -> bytes:
    store.get_session(session_id)
    rows = store.results(session_id)
    classes: list[str] = []
    for row in rows:
        classes += [c for c in row["classes"] if c not in classes]
    out = io.StringIO()
    table = csv.writer(out, lineterminator="\n")
    table.writerow([*CSV_COLUMNS, *(f"p_{c}" for c in classes)])
    for row in rows:
        probabilities = dict(zip(row["classes"], row["probabilities"] or (), strict=False))
        values = {
            **row,
            "recorded_at": iso_time(row["recorded_at"]),
            "reasons": "; ".join(row["reasons"]),
        }
        cells = [_cell(values[c]) for c in CSV_COLUMNS]
        table.writerow(cells + [_number(probabilities.get(c)) for c in classes])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: spreadsheets then read UTF-8 names


def _cell(value: object) -> object:
    """Text that a spreadsheet would run as a formula is prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def write_json(store: SessionStore, session_id: int, path: Path | str, *, overwrite: bool = False,
               writer: FileWriter | None = None) -> Path:
    """The whole session as one JSON document; returns the path written."""
    data = json.dumps(session_document(store, session_id), indent=1, ensure_ascii=False) + "\n"
    return write_new(Path(path), data.encode("utf-8"), overwrite=overwrite, writer=writer)


def session_document(store: SessionStore, session_id: int) -> dict:
    session = store.get_session(session_id)
    summary = store.summary(session_id)
    info = session.info
    return {
        "format": 1,
        "allscope_version": __version__,
        "disclaimer": DISCLAIMER,
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


def _field_entry(store: SessionStore, field: FieldRecord) -> dict:
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
