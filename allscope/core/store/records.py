"""What the session store hands out: plain, immutable records (no database handles inside)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from allscope.core.results import FieldResult, Flag
from allscope.core.text import printable

DECISIONS = ("accept", "dismiss")
SIGNATURE_ROLES = ("reviewed", "verified")
#: The reason given for a stored record whose text can no longer be decoded (bit rot, a bad disk).
DAMAGED = "record damaged in the database (cannot be decoded); not used"


@dataclass(frozen=True)
class SessionInfo:
    """What the user and the app state about one slide examination, fixed at its start."""

    patient_id: str = ""
    slide_id: str = ""
    operator: str = ""
    lab_name: str = ""
    notes: str = ""
    source: str = ""
    camera_settings: dict[str, Any] = field(default_factory=dict[str, Any])
    model_name: str = ""
    model_version: str = ""
    model_sha256: str = ""
    app_version: str = ""
    threshold: float | None = None
    flag_policy: dict[str, Any] = field(default_factory=dict[str, Any])
    accession: str = ""  # the report or accession number the laboratory files it under
    date_of_birth: str = ""  # second identifier (with collection_date), as the user typed it
    collection_date: str = ""
    clinician: str = ""  # requesting clinician
    um_per_px: float | None = None  # the microscope's scale when the session started, if set
    cell_model: str = ""  # the cell package in force ("name version (sha256...)"), if any


@dataclass(frozen=True)
class Signature:
    """One sign-off of a session's report: "reviewed" (the reviewer) or "verified" (a second
    person)."""

    id: int
    session_id: int
    role: str
    name: str
    created_at: float


@dataclass(frozen=True)
class PolicyChange:
    """A flag policy that came into force during a session at ``changed_at``."""

    session_id: int
    changed_at: float
    threshold: float | None
    flag_policy: dict[str, Any]


@dataclass(frozen=True)
class SessionRecord:
    id: int
    name: str | None
    info: SessionInfo
    started_at: float
    ended_at: float | None
    field_count: int = 0

    @property
    def finished(self) -> bool:
        return self.ended_at is not None

    @property
    def display_name(self) -> str:
        """The user's name for the session, else "patient / slide", else "Session N"."""
        if self.name:
            return self.name
        parts = [p for p in (self.info.patient_id, self.info.slide_id) if p]
        return " / ".join(parts) if parts else f"Session {self.id}"


@dataclass(frozen=True)
class ReviewRecord:
    id: int
    field_id: int
    decision: str | None  # "accept", "dismiss" or None (comment only / decision withdrawn)
    comment: str
    reviewer: str
    created_at: float


@dataclass(frozen=True)
class SavedField:
    """One saved field: lossless image and mask files, the result, and its current review."""

    id: int
    session_id: int
    kind: str  # "flag" or "manual"
    created_at: float
    image_path: Path
    image_sha256: str
    mask_path: Path
    mask_sha256: str
    width: int
    height: int
    result: FieldResult
    flag: Flag | None = None
    review: ReviewRecord | None = None
    preview_path: Path | None = None  # JPEG, at most PREVIEW_WIDTH wide: for galleries and reports
    heat_map_path: Path | None = (
        None  # 8-bit PNG class activation map (flags of a model with a CAM head)
    )
    heat_map_sha256: str | None = None


@dataclass(frozen=True)
class SessionSummary:
    """Aggregate figures of a session, as shown in the report's summary."""

    session_id: int
    started_at: float
    ended_at: float | None
    analysed: int
    assessable: int
    classified: int
    flagged_results: int
    flagged_fields: int
    captured_fields: int
    class_counts: dict[str, int]
    threshold: float | None
    outside: int = 0  # analysed fields the model abstained on ("outside the model's experience")

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_at is None else max(0.0, self.ended_at - self.started_at)


def result_to_json(result: FieldResult) -> str:
    """The result without its cells (saved cells have their own table, see ``store.cells``)."""
    data = {f.name: getattr(result, f.name) for f in fields(FieldResult) if f.name != "cells"}
    names = ("source", "name", "path")
    data.update({k: printable(data[k]) for k in names if isinstance(data[k], str)})
    return json.dumps(data, ensure_ascii=False)


def result_from_json(text: str) -> FieldResult:
    data = json.loads(text)
    known = {f.name for f in fields(FieldResult)} - {"cells"}
    data = {k: v for k, v in data.items() if k in known}
    for key in ("reasons", "classes"):
        data[key] = tuple(data.get(key) or ())
    if data.get("probabilities") is not None:
        data["probabilities"] = tuple(data["probabilities"])
    return FieldResult(**data)


def damaged_result(field_id: int, exc: Exception) -> FieldResult:
    """What a field whose stored result cannot be decoded shows: not assessable, and why."""
    return FieldResult(
        frame_id=-1,
        timestamp=0.0,
        source="",
        name=f"field {field_id}",
        wbc_count=0,
        mask_coverage=0.0,
        assessable=False,
        reasons=(f"{DAMAGED}: {exc}",),
    )


def flag_to_json(flag: Flag | None) -> str | None:
    if flag is None:
        return None
    # the heat map is stored as its own image file, not in the JSON
    data = {
        f.name: getattr(flag, f.name) for f in fields(Flag) if f.name not in ("result", "heat_map")
    }
    return json.dumps(data, ensure_ascii=False)


def flag_from_json(text: str | None, result: FieldResult) -> Flag | None:
    if not text:
        return None
    return Flag(result=result, **json.loads(text))


def info_to_row(info: SessionInfo) -> dict[str, Any]:
    row = asdict(info)
    row["camera_settings"] = json.dumps(info.camera_settings, ensure_ascii=False, default=str)
    row["flag_policy"] = json.dumps(info.flag_policy, ensure_ascii=False, default=str)
    return row


def info_from_row(row: dict[str, Any]) -> SessionInfo:
    names = {f.name for f in fields(SessionInfo)}
    data = {k: row[k] for k in names if k in row}
    for key in ("camera_settings", "flag_policy"):
        data[key] = _json_object(data.get(key) or "{}")
    if not isinstance(data.get("threshold"), (int, float, type(None))):
        data["threshold"] = None
    return SessionInfo(**data)


def _json_object(text: str) -> dict[str, Any]:
    """A stored JSON object; a damaged one is kept as text under "damaged" rather than raising."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"damaged": text}
    return value if isinstance(value, dict) else {"damaged": text}
