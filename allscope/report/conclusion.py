"""What page 1 of a report concludes, and which fields the report shows; Qt-free.

The conclusion is the part a laboratory files: white cells examined and counted per type
(when the session has cell records), blasts with a Wilson 95% interval, fields analysed and
flagged, the review counts, and whether the report is final or still a draft.
"""

from __future__ import annotations

from dataclasses import dataclass

from allscope.core.cells.tally import Tally
from allscope.core.store import SavedField, SessionStore, Signature

UNREVIEWED_CAP = 12  # most suspicious unreviewed fields shown in full
DISMISSED_CAP = 4  # dismissed fields shown (greyed) so a reader sees what was set aside


@dataclass(frozen=True)
class Conclusion:
    analysed: int
    flagged: int
    captured: int
    accepted: int
    dismissed: int
    unreviewed: int
    signatures: tuple[Signature, ...]
    ended: bool
    tally: Tally | None = None

    @property
    def reviewed_by(self) -> Signature | None:
        return next((s for s in reversed(self.signatures) if s.role == "reviewed"), None)

    @property
    def verified_by(self) -> Signature | None:
        return next((s for s in reversed(self.signatures) if s.role == "verified"), None)

    @property
    def final(self) -> bool:
        """Final once the session ended, every flag has a decision and a reviewer signed."""
        return self.ended and self.unreviewed == 0 and self.reviewed_by is not None

    def status_text(self) -> str:
        if self.final:
            return "FINAL" + ("" if self.verified_by else " (awaiting verification)")
        missing = []
        if not self.ended:
            missing.append("the session has not ended")
        if self.unreviewed:
            missing.append(f"{self.unreviewed} flagged field(s) not reviewed")
        if self.reviewed_by is None:
            missing.append("not signed")
        return "DRAFT: " + "; ".join(missing)


def decision(field_record: SavedField) -> str | None:
    return None if field_record.review is None else field_record.review.decision


def conclude(
    store: SessionStore, session_id: int, fields: list[SavedField], tally: Tally | None
) -> Conclusion:
    session = store.get_session(session_id)
    summary = store.summary(session_id)
    flags = [f for f in fields if f.kind == "flag"]
    decided = [decision(f) for f in fields]
    return Conclusion(
        analysed=summary.analysed,
        flagged=len(flags),
        captured=summary.captured_fields,
        accepted=decided.count("accept"),
        dismissed=decided.count("dismiss"),
        unreviewed=sum(1 for f in flags if decision(f) is None),
        signatures=tuple(store.signatures(session_id)),
        ended=session.finished,
        tally=tally,
    )


def tally_lines(tally: Tally | None, fields: list[SavedField]) -> list[tuple[str, str]]:
    """The cell part of the conclusion, in words."""
    if tally is None:
        regions = sum(f.result.wbc_count for f in fields)
        return [
            (
                "White cells examined",
                "not counted cell by cell in this session (no cell records); "
                f"white-cell regions outlined in the saved fields: {regions}",
            )
        ]
    per_type = ", ".join(
        f"{name} {n}" for name, n in sorted(tally.per_class.items(), key=lambda kv: -kv[1])
    )
    rows = [("White cells examined", str(tally.wbc)), ("Count per type", per_type or "—")]
    if tally.wbc and tally.ci95 is not None:
        low, high = tally.ci95
        rows.append(
            (
                "Blasts",
                f"{tally.blasts} of {tally.wbc} = {100 * tally.blasts / tally.wbc:.1f}% "
                f"(95% interval {100 * low:.1f}–{100 * high:.1f}%, Wilson)",
            )
        )
    return rows


def shown_fields(
    fields: list[SavedField],
    unreviewed_cap: int = UNREVIEWED_CAP,
    dismissed_cap: int = DISMISSED_CAP,
) -> list[SavedField]:
    """Fields the report draws: every accepted one, the most suspicious unreviewed ones up to a
    cap, and a few dismissed ones (drawn greyed), in capture order."""
    accepted = [f for f in fields if decision(f) == "accept"]
    by_p = sorted((f for f in fields if decision(f) is None), key=lambda f: -_suspicion(f))
    dismissed = sorted(
        (f for f in fields if decision(f) == "dismiss"), key=lambda f: -_suspicion(f)
    )
    chosen = {f.id for f in accepted + by_p[:unreviewed_cap] + dismissed[:dismissed_cap]}
    return [f for f in fields if f.id in chosen]


def _suspicion(field: SavedField) -> float:
    """How suspicious a field is: its flag's strongest P(blast) when cells raised it, else
    P(ALL)."""
    if field.flag is not None and field.flag.p_blast is not None:
        return field.flag.p_blast
    return field.result.p_all or 0.0


def short_id(text: str, limit: int = 32) -> str:
    """An identifier cut for a page header: start and end kept, "…" between."""
    if len(text) <= limit:
        return text
    keep = limit - 1
    return text[: (keep + 1) // 2] + "…" + text[len(text) - keep // 2 :]
