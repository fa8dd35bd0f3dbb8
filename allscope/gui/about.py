"""The About dialog: version, the model in use and its card, and what allscope is not."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout

from allscope import CONFIRMATION, DISCLAIMER, __version__
from allscope.core.model_package import ModelPackage
from allscope.report.content import figure_rows, limitations_text


def about_html(package: ModelPackage | None) -> str:
    """The dialog's text: what allscope is and is not, the model and its figures with splits."""
    parts = [
        f"<h2>allscope {escape(__version__)}</h2>",
        f"<p style='font-size: large'><b>{escape(DISCLAIMER)}</b></p>",
        f"<p>{escape(CONFIRMATION)}</p>",
        "<p>allscope outlines the white cells of each microscope field with a LAB-colour "
        "K-means mask (Hosseini, Ghaderzadeh, Eshraghi et al., <i>Informatics in Medicine "
        "Unlocked</i> 39, 2023) "
        "and a small neural network reads the field as Benign, Early Pre-B, Pre-B or Pro-B.</p>",
    ]
    if package is None:
        parts.append(
            "<p><b>No model loaded.</b> The live view and the white-cell outlines work; "
            "fields are not classified.</p>"
        )
        return "\n".join(parts)
    parts.append(f"<h3>Model in use: {escape(package.describe())}</h3>")
    parts.append(
        f"<p>Reads: {escape(', '.join(package.classes))}. "
        f"Flags at P(ALL) ≥ {package.threshold:.2f}. "
        f"Fingerprint (SHA-256) {escape(package.sha256[:16])}…</p>"
    )
    figures = figure_rows(package)
    if figures:
        rows = "".join(
            f"<tr><td>{escape(a)}</td><td>{escape(b)}</td><td>{escape(c)}</td></tr>"
            for a, b, c in figures
        )
        parts.append(
            "<table cellspacing='0' cellpadding='3' border='1' style='border-collapse: collapse'>"
            "<tr><th align='left'>Figure</th><th align='left'>Value</th>"
            "<th align='left'>Measured on</th></tr>"
            f"{rows}</table>"
        )
    parts.append(f"<p>{escape(limitations_text(package))}</p>")
    if package.card:
        parts.append(
            f"<p>The full model card is in {escape(str(package.path / 'MODEL_CARD.md'))}.</p>"
        )
    return "\n".join(parts)


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
