"""The words of the report: metadata, summary, per-field text, model section. No drawing here.

Kept apart from the layout so the CSV/JSON exports and the GUI can word things the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from allscope.core.model_package import ModelPackage
from allscope.core.ood import OUTSIDE
from allscope.core.store import PolicyChange, SavedField, SessionRecord, SessionSummary
from allscope.core.store.cells import CellRecord
from allscope.report.cell_insets import cells_line

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
        *identity_rows(session),
        ("Operator", info.operator or "—"),
        ("Microscope scale", f"{info.um_per_px:g} µm per pixel" if info.um_per_px else "not set"),
        ("Laboratory", info.lab_name or "—"),
        ("Started", local_time(session.started_at)),
        ("Ended", local_time(session.ended_at) if session.ended_at else "not ended"),
        ("Source", info.source or "—"), ("Camera settings", _mapping_text(info.camera_settings)),
        ("Model", model), ("Model SHA-256", info.model_sha256 or "—"),
        ("Cell model", info.cell_model or "—"),
        ("allscope version", info.app_version or "—"),
        ("Notes", shorten(info.notes, NOTES_LIMIT, "in the JSON export") if info.notes else "—"),
    ]


def identity_rows(session: SessionRecord) -> list[tuple[str, str]]:
    """Who and what the report is about: the rows of page 1's identification block."""
    info = session.info
    second = [
        f"born {info.date_of_birth}" if info.date_of_birth else "",
        f"collected {info.collection_date}" if info.collection_date else "",
    ]
    return [
        ("Patient / sample ID", info.patient_id or "—"),
        ("Date of birth / collection", ", ".join(p for p in second if p) or "— (not stated)"),
        ("Report / accession no.", info.accession or f"not stated (session no. {session.id})"),
        ("Slide ID", info.slide_id or "—"),
        ("Requesting clinician", info.clinician or "—"),
        ("Session", f"{session.display_name} (no. {session.id})"),
    ]


CELL_RULE = "a cell called blast (P(blast) at the cell package's threshold)"


def policy_text(change: PolicyChange, by_cells: bool = False) -> str:
    """The flag rule in force: with a cell model the cells decide, and the policy's P(ALL)
    threshold played no part (``allscope.core.flags.evidence``)."""
    threshold = "—" if change.threshold is None else f"P(ALL) ≥ {change.threshold:.2f}"
    if by_cells:
        threshold = CELL_RULE
    rest = {k: v for k, v in change.flag_policy.items() if k != "threshold"}
    return f"{threshold}" + (f" ({_mapping_text(rest)})" if rest else "")


def policy_rows(changes: list[PolicyChange], by_cells: bool = False) -> list[tuple[str, str]]:
    """The flag policies in force during the session, each from the time it was set."""
    rows = []
    for number, change in enumerate(changes):
        label = (
            "Flag policy at start" if number == 0 else f"Changed at {local_time(change.changed_at)}"
        )
        rows.append((label, policy_text(change, by_cells)))
    return rows


def summary_rows(summary: SessionSummary, by_cells: bool = False) -> list[tuple[str, str]]:
    """The session's counts; with a cell model in force the field model's classes are only its
    subtype reading, and the flag rule is the cells'."""
    counts = (
        ", ".join(f"{name} {n}" for name, n in summary.class_counts.items()) or "none classified"
    )
    threshold = "—" if summary.threshold is None else f"P(ALL) ≥ {summary.threshold:.2f}"
    if by_cells:
        threshold = CELL_RULE
    return [
        ("Duration", duration_text(summary.duration_s)),
        ("Fields analysed", str(summary.analysed)),
        ("Assessable", str(summary.assessable)),
        ("Classified", str(summary.classified)),
        (
            "Outside the model's experience",
            f"{summary.outside} (the model abstained: never flagged)",
        ),
        ("Field model's top class (subtype reader)" if by_cells
         else "Top class per classified field", counts),
        ("Flagged fields saved", str(summary.flagged_fields)),
        ("Fields captured by hand", str(summary.captured_fields)),
        ("Flag threshold", threshold),
    ]


def field_text(
    field: SavedField, number: int, total: int, policy: PolicyChange | None = None,
    cells: Sequence[CellRecord] = (),
) -> str:
    """The lines beside a field's image; ``policy`` is the flag policy in force when it was
    saved. With saved ``cells`` the cells are the verdict (the field model only reads the
    subtype), so the field model's class and P(ALL) are not given as the verdict."""
    r = field.result
    kind = "flagged" if field.kind == "flag" else "captured by hand"
    lines = [
        f"Field {number} of {total} (no. {field.id}) — {kind}, saved {local_time(field.created_at)}"
    ]
    lines.append(f"From: {r.name or r.path or '—'} ({r.source})")
    if OUTSIDE in r.reasons:
        score = "" if r.ood_score is None else f" (score {r.ood_score:.3g})"
        lines.append(f"Outside the model's experience{score}: the model abstained; not assessed")
    if cells:
        lines.append(cells_line(cells, r.subtype))
    elif r.classified:
        pairs = zip(r.classes, r.probabilities or (), strict=True)
        each = ", ".join(f"{name} {p:.2f}" for name, p in pairs)
        lines.append(f"Top class: {r.label} · P(ALL) {r.p_all:.2f} ({each})")
    else:
        reasons = ", ".join(r.reasons) or "no classification"
        lines.append(f"Not classified ({reasons})")
    facts = [f"White cells found: {r.wbc_count}"]
    if field.flag is not None:
        flag = field.flag
        strength = (f"P(ALL) {flag.p_all:.2f}" if flag.p_blast is None
                    else f"strongest P(blast) {flag.p_blast:.2f}")
        facts.append(f"flag: frames {flag.start_frame}–{flag.end_frame}, {strength}")
    lines.append("; ".join(facts))
    if policy is not None:
        lines.append(f"Policy in force: {policy_text(policy, bool(cells))}")
    lines.append(review_text(field))
    return "\n".join(lines)


CAM_LEGEND = (
    "Where a field has two pictures, the right one is the evidence map of its top class versus "
    "Benign (class activation map): red and yellow mark where the model found its evidence. "
    "It shows where the "
    "model looked, not which cells are malignant."
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
    """Which model judged the session, in words (no developer notes)."""
    info = session.info
    if package is None:
        rows = [
            (
                "Model",
                " ".join(p for p in (info.model_name, info.model_version) if p) or "none recorded",
            )
        ]
        rows.append(("SHA-256", info.model_sha256 or "—"))
        rows.append(("Model figures", "not available when this report was made"))
        return rows
    rows = [
        (
            "Model",
            f"{package.name} {package.version} ({package.architecture}, {package.precision})",
        ),
        ("Classes", ", ".join(package.classes)),
        ("SHA-256", package.sha256),
        ("Recommended threshold", f"P(ALL) ≥ {package.threshold:.2f}"),
    ]
    if package.sha256 != info.model_sha256 and info.model_sha256:
        rows.append(("Note", "this is not the model recorded for the session (SHA-256 differs)"))
    summary = package.summary or {}
    for key, label in (
        ("intended_use", "Intended use"),
        ("threshold_rule", "How the threshold was chosen"),
        ("citation", "Training data"),
    ):
        if isinstance(summary.get(key), str):
            rows.append((label, summary[key]))
    return rows


FOREIGN_WORDS = ("another lab", "other lab", "foreign", "held-out source", "held out source")


def figure_rows(package: ModelPackage | None) -> list[tuple[str, str, str]]:
    """(figure, value with its 95% interval, data split it was measured on) per recorded metric."""
    metrics = (package.summary or {}).get("metrics", []) if package is not None else []
    rows = []
    for metric in metrics:
        if isinstance(metric, dict) and isinstance(metric.get("value"), (int, float)):
            rows.append(
                (
                    str(metric.get("metric", "—")),
                    _value_text(metric),
                    str(metric.get("split", "not stated")),
                )
            )
    return rows


def limitations_text(package: ModelPackage | None) -> str:
    """The limitations line: one laboratory's training data and the figures measured elsewhere."""
    foreign = [
        row for row in figure_rows(package) if any(w in row[2].lower() for w in FOREIGN_WORDS)
    ]
    text = (
        "Limitations: the model learned from one laboratory's fields; its figures on other "
        "laboratories' "
        "fields are weaker"
    )
    if foreign:
        text += (
            " (" + "; ".join(f"{name}: {value} on {split}" for name, value, split in foreign) + ")"
        )
    return text + (
        ". A different microscope, camera or stain can change every figure above; "
        "verify the method "
        "locally before relying on it. A screening aid, not a diagnosis."
    )


def _value_text(metric: dict) -> str:
    value = float(metric["value"])
    interval = metric.get("ci95")
    as_percent = 0.0 <= value <= 1.0 and "ece" not in str(metric.get("metric", "")).lower()
    if not as_percent:
        return f"{value:.3g}"
    text = f"{100 * value:.1f}%"
    if isinstance(interval, (list, tuple)) and len(interval) == 2:
        text += f" (95% CI {100 * interval[0]:.1f}–{100 * interval[1]:.1f}%)"
    return text


def _mapping_text(mapping: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in mapping.items()) if mapping else "—"
