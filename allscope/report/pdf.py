"""The PDF report of a session, drawn with Qt's own PDF writer (no browser, no PDF library).

A4 pages: page 1 is the conclusion a laboratory files (status, identification, cell tally,
review counts, sign-off); then session details with every flag policy in force, the
representative fields (all accepted, the most suspicious unreviewed up to a cap, a few
dismissed ones greyed), the model's figures with their data splits and limitations, and an
appendix with the SHA-256 of every included image and of the manifest, which is also written
beside the report. A batch of thousands of fields stays a few pages long: per-field detail is
in the CSV/JSON export.

Runs off the GUI thread (QPdfWriter and QPainter do not need it); a QGuiApplication must
exist, :func:`ensure_gui_app` makes one for scripts.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QBuffer, QIODevice, QLineF, QMarginsF
from PySide6.QtGui import QColor, QFont, QPageLayout, QPageSize, QPainter, QPdfWriter

from allscope import NOTICE
from allscope.core.cells.tally import Tally
from allscope.core.model_package import ModelPackage
from allscope.core.store import SessionStore
from allscope.core.store.files import (
    FileWriter,
    WriteFailedError,
    atomic_write,
    free_name,
)
from allscope.report import content
from allscope.report import layout as lay
from allscope.report.cell_pages import cell_blocks
from allscope.report.conclusion import conclude, short_id, shown_fields
from allscope.report.field_image import Prefetch
from allscope.report.field_section import field_blocks
from allscope.report.fonts import report_font
from allscope.report.front_page import front_blocks
from allscope.report.manifest import (
    ImageCheck,
    build_manifest,
    manifest_sha256,
    sidecar_path,
    write_sidecar,
)
from allscope.report.qt_app import ensure_gui_app

Progress = Callable[[int, int], None]
DPI = 300
MM = DPI / 25.4


class _Page:
    """A4 geometry in device pixels and the fonts of the report."""

    def __init__(self, device: QPdfWriter) -> None:
        self.device = device
        self.mm = MM
        self.width, self.height = 210 * MM, 297 * MM
        self.left, self.right = 16 * MM, (210 - 16) * MM
        self.top, self.bottom = 22 * MM, (297 - 20) * MM
        self.content = self.right - self.left
        self.title, self.h2 = report_font(17, bold=True), report_font(12, bold=True)
        self.body, self.bold = report_font(9), report_font(9, bold=True)
        self.small, self.small_bold = report_font(7), report_font(7, bold=True)
        self.digits = report_font(7)
        self.digits.setStyleStrategy(
            QFont.StyleStrategy.PreferNoShaping
        )  # no "ff" ligature in hashes

    def text(self, text: str, font, space_after: float = 0.0, **kw) -> lay.TextBlock:
        return lay.TextBlock(text, font, self.content, self.device, space_after=space_after, **kw)

    def heading(self, text: str) -> list[lay.Block]:
        return [lay.SpacerBlock(4 * MM), self.text(text, self.h2, 2 * MM, keep_with_next=True)]

    def rows(
        self, rows: list[tuple[str, str]], font=None, bold=None, label_mm: float = 48
    ) -> list[lay.Block]:
        return [
            lay.RowBlock(
                label, value, font or self.body, bold or self.bold, self.content, self.device,
                label_mm * MM, 1.2 * MM,
            )
            for label, value in rows
        ]


def write_pdf(
    store: SessionStore,
    session_id: int,
    path: Path | str,
    model_package: ModelPackage | None = None,
    progress: Progress | None = None,
    *,
    overwrite: bool = False,
    writer: FileWriter | None = None,
    logo: Path | None = None,
    tally: Tally | None = None,
) -> Path:
    """Render the session's report to ``path`` atomically; return the path written.

    Without ``overwrite`` an existing file is kept and the report goes to ``name (2).pdf``.
    The manifest goes beside it as ``<report>.manifest.json``. ``progress(done, total)`` is
    called as fields are drawn. ``logo`` is the laboratory's logo for the header (optional);
    ``tally`` the slide's white-cell count; by default the session's own (``cell_tally``: the
    live tally's cells with every reclassification applied), when it has cell records.
    """
    ensure_gui_app()
    target = _target(Path(path), overwrite)
    session = store.get_session(session_id)
    if tally is None:  # the session's own cells, reclassifications applied, when it has any
        counted = store.cell_tally(session_id)
        tally = counted if counted.wbc else None
    summary = store.summary(session_id)
    all_fields = store.fields(session_id)
    fields = shown_fields(all_fields)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    pdf = QPdfWriter(buffer)
    pdf.setResolution(DPI)
    pdf.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF()
        )
    )
    pdf.setTitle(f"allscope report — {session.display_name}")
    pdf.setCreator("allscope")
    page = _Page(pdf)
    checks: list[ImageCheck] = []
    heat_checks: dict[int, str | None] = {}  # field id -> SHA-256 of its heat map as read now
    manifest: dict = {}
    blocks = front_blocks(
        page, session, conclude(store, session_id, all_fields, tally), all_fields, logo
    )
    blocks += _details(page, session, summary, store.policies(session_id))
    prefetch = Prefetch(fields)
    blocks += field_blocks(
        page,
        fields,
        len(all_fields),
        store.policies(session_id),
        (checks, heat_checks),
        progress,
        prefetch,
        session.info.um_per_px,
        {f.id: store.cells(field_id=f.id) for f in fields},
    )
    blocks += cell_blocks(page, store, session_id)
    blocks += _model_blocks(page, session, model_package)
    model_sha = model_package.sha256 if model_package else None
    created = content.iso_time(datetime.now().timestamp())

    def finish_manifest() -> dict:
        manifest.update(build_manifest(target.name, session, checks, created, model_sha))
        _add_heat_maps(manifest, fields, heat_checks)
        return manifest

    blocks += _appendix_blocks(page, fields, (checks, heat_checks), finish_manifest, target)
    pages = lay.paginate(blocks, page.top, page.bottom)
    try:
        _draw(pdf, page, pages, session)
    finally:
        prefetch.close()
    buffer.close()
    data = bytes(buffer.data().data())
    written = _publish(target, data, manifest, overwrite, writer)
    if progress is not None:
        progress(len(fields), len(fields))
    return written


def _publish(
    target: Path, data: bytes, manifest: dict, overwrite: bool, writer: FileWriter | None
) -> Path:
    """Write the report, then its manifest; if the manifest fails, the previous report (when
    overwriting) is put back and the new one removed, so a report never lacks its manifest."""
    backup = target.with_name(f".{target.name}.previous.tmp")
    kept = False
    if overwrite and target.is_file():
        backup.unlink(missing_ok=True)
        try:
            os.link(target, backup)
        except OSError:  # no hard links here (FAT, some shares): a copy does
            shutil.copy2(target, backup)
        kept = True
    try:
        written = atomic_write(target, data, overwrite=overwrite, writer=writer)
        try:
            write_sidecar(written, manifest, writer=writer)
        except BaseException:
            if kept:
                os.replace(backup, written)
                kept = False
            else:
                written.unlink(missing_ok=True)
            raise
    finally:
        if kept:
            backup.unlink(missing_ok=True)
    return written


def _target(path: Path, overwrite: bool) -> Path:
    """Check the destination before the work, and pick a free name unless overwriting."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise WriteFailedError(
            2,
            f"Could not write {path}: the folder {folder} does not exist; choose another location.",
        )
    if not os.access(folder, os.W_OK | os.X_OK):
        raise WriteFailedError(
            13,
            f"Could not write {path}: the folder {folder} is not writable; choose another "
            "location.",
        )
    if overwrite:
        return path
    return free_name(path)


def _details(page: _Page, session, summary, policies) -> list[lay.Block]:
    by_cells = bool(session.info.cell_model)  # a cell model was in force: the cells decided
    blocks = page.heading("Session details")
    blocks += page.rows(content.metadata_rows(session))
    blocks += page.rows(content.policy_rows(policies, by_cells))
    blocks += page.heading("Summary")
    return blocks + page.rows(content.summary_rows(summary, by_cells))


def _model_blocks(page: _Page, session, package: ModelPackage | None) -> list[lay.Block]:
    blocks = [lay.PageBreak()] + page.heading("Model")
    blocks += page.rows(content.model_rows(session, package))
    figures = content.figure_rows(package)
    if figures:
        blocks += page.heading("What the model's figures say")
        blocks.append(
            page.text(
                "Each figure comes from the model's own evaluation and names the data it was "
                "measured on. They describe the model, not this session.",
                page.small,
                2 * MM,
            )
        )
        widths = [55 * MM, 45 * MM, page.content - 100 * MM]
        blocks.append(
            lay.ColumnsBlock(
                ["Figure", "Value (95% interval)", "Measured on"],
                widths,
                page.bold,
                page.device,
                1.5 * MM,
                shade=QColor(235, 235, 235),
            )
        )
        blocks += [
            lay.ColumnsBlock(list(row), widths, page.body, page.device, 1.5 * MM) for row in figures
        ]
    blocks.append(lay.SpacerBlock(2 * MM))
    return blocks + [page.text(content.limitations_text(package), page.bold, 2 * MM)]


def _add_heat_maps(manifest: dict, fields, heat_checks: dict[int, str | None]) -> None:
    """The manifest's image entries gain each flag's evidence-map file and SHA-256."""
    by_id = {field.id: field for field in fields}
    for entry in manifest.get("images", []):
        field = by_id.get(entry["field_id"])
        if field is not None and field.heat_map_path is not None:
            entry["heat_map_file"] = field.heat_map_path.name
            entry["heat_map_sha256"] = heat_checks.get(field.id)
            entry["recorded_heat_map_sha256"] = field.heat_map_sha256


def _appendix_blocks(page: _Page, fields, checks, finish_manifest, target: Path) -> list[lay.Block]:
    blocks = page.heading("Appendix: image integrity (SHA-256)")
    blocks.append(
        page.text(
            "SHA-256 of each field's stored lossless image and mask (and evidence map, where "
            "there is one) as read "
            "when this report was made. The manifest "
            f"listing them is saved beside this report as “{sidecar_path(target).name}”; its own "
            "SHA-256 is below.",
            page.small,
            2 * MM,
        )
    )
    row_h = lay.RowBlock(
        "x", "0" * 64, page.small, page.small_bold, page.content, page.device, 40 * MM, 0.6 * MM
    ).height

    checks, heat_checks = checks

    def line(index: int, which: str) -> lay.Block:
        def draw(painter, x, y):
            check = checks[index]
            digest = {"image": check.image_sha256, "mask": check.mask_sha256}.get(which)
            recorded = {"image": check.field.image_sha256, "mask": check.field.mask_sha256}.get(
                which, check.field.heat_map_sha256
            )
            if which == "evidence map":
                digest = heat_checks.get(check.field.id)
            # each row judges its own file: a changed image does not mark its mask as changed
            status = "" if digest == recorded else "  ✗ CHANGED OR MISSING"
            label = f"Field no. {check.field.id} {which}"
            _digest_row(page, label, f"{digest or 'unreadable'}{status}").draw(painter, x, y)

        return lay.DrawBlock(row_h, draw)

    for index, field in enumerate(fields):
        blocks += [line(index, "image"), line(index, "mask")]
        if field.heat_map_path is not None:
            blocks.append(line(index, "evidence map"))

    def manifest_line(painter, x, y):
        digest = manifest_sha256(finish_manifest())
        _digest_row(page, "Manifest SHA-256", digest).draw(painter, x, y)

    return blocks + [lay.SpacerBlock(2 * MM), lay.DrawBlock(row_h, manifest_line)]


def _draw(pdf: QPdfWriter, page: _Page, pages: list[list[lay.Placed]], session) -> None:
    painter = QPainter(pdf)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    try:
        for number, placed_blocks in enumerate(pages, 1):
            if number > 1:
                pdf.newPage()
            _header_footer(painter, page, session, number, len(pages))
            for placed in placed_blocks:
                placed.block.draw(painter, page.left, placed.y)
    finally:
        painter.end()


def _header_footer(painter: QPainter, page: _Page, session, number: int, total: int) -> None:
    info = session.info
    who = short_id(info.patient_id) or short_id(session.display_name)
    accession = f" · no. {short_id(info.accession, 20)}" if info.accession else ""
    header = (
        f"{short_id(info.lab_name or 'allscope', 40)} · B-ALL screening report · {who}{accession}"
    )
    lay.TextBox(header, page.small, page.content, page.device, QColor(90, 90, 90)).draw(
        painter, page.left, 10 * MM
    )
    painter.setPen(QColor(180, 180, 180))
    painter.drawLine(QLineF(page.left, 15 * MM, page.right, 15 * MM))
    painter.drawLine(QLineF(page.left, page.bottom + 3 * MM, page.right, page.bottom + 3 * MM))
    footer_w = page.content - 30 * MM
    lay.TextBox(NOTICE, page.small_bold, footer_w, page.device, QColor(120, 20, 20)).draw(
        painter, page.left, page.bottom + 5 * MM
    )
    number_box = lay.TextBox(
        f"Page {number} of {total}", page.small, 30 * MM, page.device, QColor(60, 60, 60)
    )
    number_box.draw(painter, page.right - 22 * MM, page.bottom + 5 * MM)


def _digest_row(page: _Page, label: str, text: str) -> lay.RowBlock:
    """One line of the appendix: a label and a SHA-256 in the digits font."""
    return lay.RowBlock(
        label, text, page.digits, page.small_bold, page.content, page.device, 40 * MM, 0.6 * MM
    )
