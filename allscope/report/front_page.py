"""Page 1 of the report: laboratory header, status, identification, conclusion and sign-off.

A laboratory reads page 1 and files it; everything after it is the evidence behind it.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QLineF, QRectF
from PySide6.QtGui import QColor, QImage, QPainter

from allscope import NOTICE
from allscope.core.store import SessionRecord, Signature
from allscope.report import content
from allscope.report import layout as lay
from allscope.report.conclusion import Conclusion, tally_lines

DRAFT_COLORS = (QColor(120, 70, 0), QColor(200, 130, 20), QColor(255, 243, 220))
FINAL_COLORS = (QColor(20, 90, 40), QColor(60, 150, 80), QColor(230, 246, 233))


def front_blocks(
    page, session: SessionRecord, conclusion: Conclusion, fields, logo: Path | None
) -> list[lay.Block]:
    """The blocks of page 1, ending with a page break."""
    mm = page.mm
    blocks: list[lay.Block] = [_header(page, session, logo)]
    colors = FINAL_COLORS if conclusion.final else DRAFT_COLORS
    blocks.append(
        lay.BoxBlock(
            f"Report status: {conclusion.status_text()}",
            page.h2,
            page.content,
            page.device,
            2.5 * mm,
            2 * mm,
            colors,
        )
    )
    blocks.append(
        lay.BoxBlock(NOTICE, page.bold, page.content, page.device, 2 * mm, 1 * mm)
    )
    blocks += page.heading("Identification")
    blocks += page.rows(content.identity_rows(session))
    blocks += page.heading("Conclusion")
    blocks += page.rows(conclusion_rows(conclusion, fields), bold=page.bold)
    blocks += page.heading("Sign-off")
    blocks.append(_signature_line(page, "Reviewed by", conclusion.reviewed_by))
    blocks.append(_signature_line(page, "Verified by", conclusion.verified_by))
    return blocks + [lay.PageBreak()]


def conclusion_rows(conclusion: Conclusion, fields) -> list[tuple[str, str]]:
    rows = tally_lines(conclusion.tally, fields)
    share = (
        f" ({100 * conclusion.flagged / conclusion.analysed:.1f}% of analysed)"
        if conclusion.analysed
        else ""
    )
    rows += [
        ("Fields analysed", str(conclusion.analysed)),
        ("Fields flagged as suspicious", f"{conclusion.flagged}{share}"),
        ("Fields captured by hand", str(conclusion.captured)),
        (
            "Review of saved fields",
            f"{conclusion.accepted} accepted, {conclusion.dismissed} dismissed, "
            f"{conclusion.unreviewed} flagged not yet reviewed",
        ),
    ]
    return rows


def _header(page, session: SessionRecord, logo: Path | None) -> lay.Block:
    mm = page.mm
    image = QImage(str(logo)) if logo is not None else QImage()
    lab = lay.TextBox(
        session.info.lab_name or "Laboratory not stated",
        page.h2,
        page.content - 55 * mm,
        page.device,
    )
    title = lay.TextBox("B-ALL screening report", page.title, page.content - 55 * mm, page.device)
    logo_h = (
        0.0 if image.isNull() else min(20 * mm, 50 * mm * image.height() / max(1, image.width()))
    )
    height = max(logo_h, lab.height + title.height + 1 * mm) + 4 * mm

    def draw(painter: QPainter, x: float, y: float) -> None:
        text_x = x
        if not image.isNull():
            logo_w = logo_h * image.width() / max(1, image.height())
            painter.drawImage(QRectF(x, y, logo_w, logo_h), image)
            text_x = x + logo_w + 5 * mm
        lab.draw(painter, text_x, y)
        title.draw(painter, text_x, y + lab.height + 1 * mm)

    return lay.DrawBlock(height, draw)


def _signature_line(page, role: str, signature: Signature | None) -> lay.Block:
    mm = page.mm
    name = signature.name if signature else ""
    date = content.local_time(signature.created_at, seconds=False) if signature else ""
    label = lay.TextBox(role, page.bold, 35 * mm, page.device)
    signed = lay.TextBox(name, page.body, 75 * mm, page.device)
    date_label = lay.TextBox("Date", page.bold, 15 * mm, page.device)
    when = lay.TextBox(date, page.body, 50 * mm, page.device)
    height = 11 * mm

    def draw(painter: QPainter, x: float, y: float) -> None:
        base = y + 7 * mm
        label.draw(painter, x, base - label.height)
        signed.draw(painter, x + 36 * mm, base - signed.height - 0.5 * mm)
        date_label.draw(painter, x + 118 * mm, base - date_label.height)
        when.draw(painter, x + 128 * mm, base - when.height - 0.5 * mm)
        painter.setPen(QColor(60, 60, 60))
        painter.drawLine(QLineF(x + 35 * mm, base, x + 113 * mm, base))
        painter.drawLine(QLineF(x + 127 * mm, base, x + page.content, base))

    return lay.DrawBlock(height, draw)
