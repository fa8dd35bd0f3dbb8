"""The About dialog: version, the model in use and its card, and what allscope is not."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from allscope import CONFIRMATION, DISCLAIMER, __version__
from allscope.core.model_package import ModelPackage

CARD_CHARS = 4000  # the dialog shows the card's beginning; the full card ships beside the model


def about_html(package: ModelPackage | None) -> str:
    """The dialog's text: version, disclaimer, model identity, summary figures and card."""
    parts = [
        f"<h2>allscope {escape(__version__)}</h2>",
        f"<p><b>{escape(DISCLAIMER)}</b> {escape(CONFIRMATION)}</p>",
        "<p>White cells are isolated with a LAB-colour K-means mask (Hosseini, Ghaderzadeh, "
        "Eshraghi et al., <i>Informatics in Medicine Unlocked</i> 39, 2023) and each field is "
        "classified as Benign, Early Pre-B, Pre-B or Pro-B by a lightweight CNN.</p>",
    ]
    if package is None:
        parts.append(
            "<p><b>No model loaded.</b> The live view and the mask work; fields are not "
            "classified.</p>"
        )
        return "\n".join(parts)
    parts.append(f"<h3>Model: {escape(package.describe())}</h3>")
    parts.append(
        f"<p>Classes: {escape(', '.join(package.classes))}; SHA-256 "
        f"{escape(package.sha256[:16])}…</p>"
    )
    if package.summary:
        rows = "".join(
            f"<tr><td>{escape(str(k))}</td><td>{escape(_format_value(v))}</td></tr>"
            for k, v in package.summary.items()
        )
        parts.append(f"<table cellspacing='4'>{rows}</table>")
    card = package.card
    if card:
        shown = card if len(card) <= CARD_CHARS else card[:CARD_CHARS] + "\n…"
        parts.append(f"<h3>Model card</h3><pre style='white-space: pre-wrap'>{escape(shown)}</pre>")
    return "\n".join(parts)


def _format_value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_format_value(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(_format_value(v) for v in value)
    return str(value)


class AboutDialog(QDialog):
    def __init__(self, package: ModelPackage | None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About allscope")
        self.resize(560, 520)
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(about_html(package))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Close, Qt.Orientation.Horizontal, self
        )
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
