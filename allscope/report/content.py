"""The words of the report: metadata, summary, per-field text, model section. No drawing here.

Kept apart from the layout so the CSV/JSON exports and the GUI can word things the same way.
"""

from __future__ import annotations

import json
from datetime import datetime

from allscope.core.model_package import ModelPackage
from allscope.core.ood import OUTSIDE
from allscope.core.store import SavedField, SessionRecord, SessionSummary

COMMENT_LIMIT = 500  # characters of a review comment shown in the PDF
NOTES_LIMIT = 1500
DECISION_WORDS = {"accept": "Accepted", "dismiss": "Dismissed", None: "No decision"}


def local_time(epoch: float | None, seconds: bool = True) -> str:
    if epoch is None:
        return "—"
    stamp = datetime.fromtimestamp(epoch).astimezone()
    return stamp.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z").strip()


def iso_time(epoch: float | None) -> str | None:
    return (
        None
        if epoch is None
        else datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")
    )


def shorten(text: str, limit: int, where: str) -> str:
    """``text`` cut to ``limit`` characters with a note saying where the full text is."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… [shortened here: {len(text):,} characters in full {where}]"


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "session not ended"
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {secs:02d} s" if hours else f"{minutes} min {secs:02d} s"


def metadata_rows(session: SessionRecord) -> list[tuple[str, str]]:
    info = session.info
    model = " ".join(p for p in (info.model_name, info.model_version) if p) or "—"
    return [
        ("Patient / sample ID", info.patient_id or "—"), ("Slide ID", info.slide_id or "—"),
        ("Operator", info.operator or "—"), ("Laboratory", info.lab_name or "—"),
        ("Session", f"{session.display_name} (no. {session.id})"),
        ("Started", local_time(session.started_at)),
        ("Ended", local_time(session.ended_at) if session.ended_at else "not ended"),
        ("Source", info.source or "—"), ("Camera settings", _mapping_text(info.camera_settings)),
        ("Model", model), ("Model SHA-256", info.model_sha256 or "—"),
        ("allscope version", info.app_version or "—"),
        ("Flag policy", _mapping_text(info.flag_policy)),
        ("Notes", shorten(info.notes, NOTES_LIMIT, "in the JSON export") if info.notes else "—"),
    ]


def summary_rows(summary: SessionSummary) -> list[tuple[str, str]]:
    counts = (
        ", ".join(f"{name} {n}" for name, n in summary.class_counts.items()) or "none classified"
    )
    threshold = "—" if summary.threshold is None else f"P(ALL) ≥ {summary.threshold:.2f}"
    return [
        ("Duration", duration_text(summary.duration_s)),
        ("Fields analysed", str(summary.analysed)),
        ("Assessable", str(summary.assessable)),
        ("Classified", str(summary.classified)),
        (
            "Outside the model's experience",
            f"{summary.outside} (the model abstained: never flagged)",
        ),
        ("Top class per classified field", counts),
        ("Flagged fields saved", str(summary.flagged_fields)),
        ("Fields captured by hand", str(summary.captured_fields)),
        ("Flag threshold", threshold),
    ]


def field_text(field: SavedField, number: int, total: int) -> str:
    """The lines beside a field's image."""
    r = field.result
    kind = "flagged" if field.kind == "flag" else "captured by hand"
    lines = [
        f"Field {number} of {total} (no. {field.id}) — {kind}",
        f"Saved {local_time(field.created_at)}",
    ]
    lines.append(f"From: {r.name or r.path or '—'} ({r.source})")
    if OUTSIDE in r.reasons:
        score = "" if r.ood_score is None else f" (score {r.ood_score:.3g})"
        lines.append(f"Outside the model's experience{score}: the model abstained; not assessed")
    if r.classified:
        lines.append(f"Top class: {r.label} · P(ALL) {r.p_all:.2f}")
        lines += [
            f"   {name}: {p:.2f}" for name, p in zip(r.classes, r.probabilities or (), strict=True)
        ]
    else:
        reasons = ", ".join(r.reasons) or "no classification"
        lines.append(f"Not classified ({reasons})")
    lines.append(f"White cells found: {r.wbc_count}")
    if field.flag is not None:
        lines.append(
            f"Flag: frames {field.flag.start_frame}–{field.flag.end_frame}, P(ALL) "
            f"{field.flag.p_all:.2f}"
        )
    lines.append(review_text(field))
    return "\n".join(lines)


def cam_legend(field: SavedField) -> str:
    """The words under a field's evidence map (class activation map)."""
    label = field.result.label or "the flagged class"
    return (
        f"Lower picture: evidence map for {label} versus Benign (class activation map). Red and "
        "yellow mark where "
        "the model found its evidence; it shows where the model looked, not which cells are "
        "malignant."
    )


def review_text(field: SavedField) -> str:
    review = field.review
    if review is None:
        return "Review: not reviewed"
    who = review.reviewer or "unknown reviewer"
    text = (
        f"Review: {DECISION_WORDS.get(review.decision, review.decision)} by {who}, "
        f"{local_time(review.created_at)}"
    )
    if review.comment:
        text += "\nComment: " + shorten(review.comment, COMMENT_LIMIT, "in the JSON export")
    return text


def model_rows(session: SessionRecord, package: ModelPackage | None) -> list[tuple[str, str]]:
    info = session.info
    if package is None:
        rows = [
            (
                "Model",
                " ".join(p for p in (info.model_name, info.model_version) if p) or "none recorded",
            )
        ]
        rows.append(("SHA-256", info.model_sha256 or "—"))
        rows.append(("Model card", "not available when this report was made"))
        return rows
    rows = [
        ("Model", f"{package.name} {package.version}"),
        ("Architecture", f"{package.architecture}, {package.precision}"),
        ("Classes", ", ".join(package.classes)), ("SHA-256", package.sha256),
        ("Recommended threshold", f"P(ALL) ≥ {package.threshold:.2f}"),
    ]
    if package.sha256 != info.model_sha256 and info.model_sha256:
        rows.append(("Note", "this is not the model recorded for the session (SHA-256 differs)"))
    rows += [(key, value) for key, value in _flatten(package.summary)]
    return rows


def _flatten(data: object, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(data, dict):
        out = []
        for key, value in data.items():
            out += _flatten(value, f"{prefix} › {key}" if prefix else str(key))
        return out
    if isinstance(data, float):
        return [(prefix, f"{data:.4g}")]
    if isinstance(data, list) and all(not isinstance(v, (dict, list)) for v in data):
        return [(prefix, ", ".join(str(v) for v in data))]
    return [(prefix, data if isinstance(data, str) else json.dumps(data, ensure_ascii=False))]


def _mapping_text(mapping: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in mapping.items()) if mapping else "—"
