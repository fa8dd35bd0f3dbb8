"""The report's representative fields: each at readable size, its review state visible at a glance.

Accepted fields carry a green tag, unreviewed ones an amber tag, and dismissed ones are
greyed out and stamped, so a dismissed field can never be taken for an accepted one.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from allscope.core.store import PolicyChange, SavedField
from allscope.core.store.cells import CellRecord
from allscope.core.store.signoff import policy_at
from allscope.report import content
from allscope.report import layout as lay
from allscope.report.cell_insets import draw_insets, insets_height, mark_cells
from allscope.report.conclusion import decision
from allscope.report.field_image import Prefetch
from allscope.report.manifest import ImageCheck

Progress = Callable[[int, int], None]
TAGS = {
    "accept": ("ACCEPTED", QColor(30, 130, 60)),
    "dismiss": ("DISMISSED", QColor(110, 110, 110)),
    None: ("NOT REVIEWED", QColor(200, 120, 0)),
}


def field_blocks(
    page,
    fields: list[SavedField],
    total: int,
    policies: list[PolicyChange],
    checks: tuple[list[ImageCheck], dict],
    progress: Progress | None,
    prefetch: Prefetch,
    um_per_px: float | None = None,
    cells_of: dict[int, list[CellRecord]] | None = None,
) -> list[lay.Block]:
    """A heading, a note on what is left out, and one block per shown field (``cells_of``: the
    saved cells of each field, whose called blasts are marked and enlarged)."""
    blocks = page.heading(f"Representative fields ({len(fields)} of {total} saved)")
    left_out = total - len(fields)
    note = (
        "Shown: every accepted field, the most suspicious unreviewed ones and a few dismissed ones "
        "(greyed). "
        "Amber outlines mark the white cells the mask found; numbered red boxes mark the cells "
        "called blast, each enlarged under its field. " + content.CAM_LEGEND
    )
    if left_out:
        note += (
            f" {left_out} further saved field(s) are not drawn here; every field is listed "
            "with its "
            "figures in the session's CSV/JSON export (allscope sessions export)."
        )
    blocks.append(page.text(note, page.small, 2 * page.mm))
    if not fields:
        return blocks + [page.text("No field was flagged or captured in this session.", page.body)]
    for index, field in enumerate(fields):
        policy = policy_at(policies, field.created_at) if policies else None
        cells = (cells_of or {}).get(field.id, [])
        blocks.append(
            _field_block(page, index, field, policy, checks, progress, prefetch, um_per_px, cells)
        )
    return blocks


def _field_block(
    page, index: int, field: SavedField, policy, checks, progress, prefetch,
    um_per_px: float | None = None, cells: list[CellRecord] | None = None,
) -> lay.Block:
    mm = page.mm
    has_cam = field.heat_map_path is not None
    gap = 4 * mm
    image_w = (page.content - gap) / 2 if has_cam else 110 * mm
    image_h = min(image_w * field.height / max(1, field.width), 82 * mm)
    text_w = page.content if has_cam else page.content - image_w - gap
    dismissed = decision(field) == "dismiss"
    color = QColor(110, 110, 110) if dismissed else None
    cells = cells or []
    insets_h = insets_height(page, cells)
    text = lay.TextBox(
        content.field_text(field, index + 1, len(prefetch.fields), policy, cells),
        page.body,
        text_w,
        page.device,
        color,
    )
    below = image_h + 2 * mm
    if has_cam:
        height = below + insets_h + text.height + 6 * mm
    else:
        height = max(below + insets_h, text.height) + 6 * mm
    image_checks, heat_checks = checks

    def draw(painter: QPainter, x: float, y: float) -> None:
        shown = prefetch.get(index)
        image_checks.append(ImageCheck(field, shown.image_sha256, shown.mask_sha256, shown.problem))
        heat_checks[field.id] = shown.heat_map_sha256
        _picture(painter, shown.image, QRectF(x, y, image_w, image_h), field, page)
        drawn_w = min(image_w, image_h * field.width / max(1, field.height))
        if cells and shown.image is not None:
            size = (field.width, field.height)
            mark_cells(painter, QRectF(x, y, drawn_w, image_h), size, cells, page)
            draw_insets(painter, shown.image, size, x, y + below,
                        page.content if has_cam else image_w, cells, page, washed=dismissed)
        if um_per_px:
            _scale_bar(painter, QRectF(x, y, drawn_w, image_h), um_per_px * field.width / drawn_w,
                       page)
        if has_cam:
            _picture(
                painter,
                shown.cam,
                QRectF(x + image_w + gap, y, image_w, image_h),
                field,
                page,
                tag=False,
            )
            text.draw(painter, x, y + below + insets_h)
        else:
            text.draw(painter, x + image_w + gap, y)
        bottom = y + height - 3 * mm
        if shown.problem:
            warning = lay.TextBox(
                f"Warning: {shown.problem}.",
                page.small_bold,
                page.content,
                page.device,
                QColor(180, 0, 0),
            )
            warning.draw(painter, x, bottom - warning.height)
        painter.setPen(QColor(200, 200, 200))
        painter.drawLine(QLineF(x, bottom + 1.5 * mm, x + page.content, bottom + 1.5 * mm))
        if progress is not None:
            progress(len(image_checks), len(prefetch.fields))

    return lay.DrawBlock(height, draw)


NICE_UM = (1, 2, 5, 10, 20, 25, 50, 100, 200, 500, 1000)


def _scale_bar(painter: QPainter, target: QRectF, um_per_unit: float, page) -> None:
    """A white bar of a round length near 20 mm in the picture's lower right corner."""
    microns = min(NICE_UM, key=lambda um: abs(um / um_per_unit - 20 * page.mm))
    length = microns / um_per_unit
    right, base = target.right() - 3 * page.mm, target.bottom() - 3 * page.mm
    painter.save()
    painter.fillRect(QRectF(right - length - 1.5 * page.mm, base - 5.5 * page.mm,
                            length + 3 * page.mm, 7 * page.mm), QColor(0, 0, 0, 150))
    painter.setPen(QPen(QColor(255, 255, 255), 0.6 * page.mm))
    painter.drawLine(QLineF(right - length, base, right, base))
    painter.setFont(page.small_bold)
    painter.drawText(QRectF(right - length, base - 5 * page.mm, length, 4 * page.mm),
                     Qt.AlignmentFlag.AlignCenter, f"{microns:g} µm")
    painter.restore()


def _picture(
    painter: QPainter, image, box: QRectF, field: SavedField, page, tag: bool = True
) -> None:
    """The image fitted in ``box``; dismissed ones washed grey and stamped; a review tag on top."""
    if image is None:
        return
    width = min(box.width(), box.height() * image.width() / max(1, image.height()))
    target = QRectF(box.x(), box.y(), width, box.height())
    painter.drawImage(target, image)
    word, color = TAGS.get(decision(field), TAGS[None])
    if decision(field) == "dismiss":
        painter.fillRect(target, QColor(255, 255, 255, 150))
        painter.save()
        painter.setPen(QPen(color, 0.8 * page.mm))
        painter.setFont(QFont(page.h2.family(), 20, QFont.Weight.Bold))
        painter.drawText(target, Qt.AlignmentFlag.AlignCenter, word)
        painter.restore()
    if not tag:
        return
    painter.save()
    painter.setFont(page.small_bold)
    metrics_w = 26 * page.mm
    label = QRectF(target.x(), target.y(), metrics_w, 4.5 * page.mm)
    painter.fillRect(label, color)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(label, Qt.AlignmentFlag.AlignCenter, word)
    painter.setPen(QPen(color, 0.5 * page.mm))
    painter.drawRect(target)
    painter.restore()
