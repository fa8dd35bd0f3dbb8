"""Help menu: the keyboard-shortcut sheet and a short user guide, in plain words."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from allscope import DISCLAIMER

SHORTCUTS = (
    (
        "Live view",
        (
            ("Space", "Capture the field on screen (saved and classified)"),
            ("F", "Fit the field to the window"),
            ("Ctrl+O", "Open a source: camera, video, image folder or demo slide"),
        ),
    ),
    ("Sessions", (("Ctrl+N", "New session"), ("Ctrl+L", "List of sessions: resume, export, sign"))),
    (
        "Reviewing the flag gallery",
        (
            ("← → ↑ ↓", "Previous / next field"),
            ("A", "Accept the field"),
            ("D", "Dismiss the field"),
            ("C", "Write a comment (Enter keeps it, Esc cancels)"),
            ("O", "White-cell outlines on / off"),
            ("H", "Evidence map on / off"),
        ),
    ),
    ("Window", (("Ctrl+Q", "Quit"), ("F1", "This sheet"))),
)

GUIDE = f"""
<h2>Using allscope in five steps</h2>
<p><b>{escape(DISCLAIMER)}</b></p>
<ol>
<li><b>Open the source.</b> File ▸ Open source (Ctrl+O): the microscope camera, a video, a folder
of images, or the demo slide to try the app.</li>
<li><b>Calibrate the colour once per microscope.</b> Move to an empty area of the slide and choose
Microscope ▸ Calibrate on a blank area. The status bar says whether colour is calibrated.</li>
<li><b>Start a session.</b> Session ▸ New session (Ctrl+N): patient or sample ID, a date of birth
or collection date, the report number, the slide, the clinician. These are fixed while the
session runs. Fields flagged before you started can be kept in it.</li>
<li><b>Scan the slide.</b> Hold the stage still on each field for a moment. The panel on the right
says what it sees: <i>Benign</i> or <i>Suspicious for ALL</i> with the probabilities;
<i>Not assessable</i> (blurred, empty, moving) or <i>Needs a look</i> (unlike anything the
model learned: judge it yourself) without probabilities. A new flag is announced for a few
seconds and saved to the gallery at the bottom; Space saves any field by hand.</li>
<li><b>Review and report.</b> In the gallery, accept (A) or dismiss (D) each flag. End the
session, export the PDF (Session ▸ Export PDF) and sign it in the sessions list. The report
stays a <i>Draft</i> until every flag is reviewed and it is signed.</li>
</ol>
<p>Performance plots for engineers are in View ▸ Diagnostics.</p>
"""


def shortcuts_html() -> str:
    parts = ["<h2>Keyboard shortcuts</h2>"]
    for group, rows in SHORTCUTS:
        cells = "".join(
            f"<tr><td width='110'><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>" for k, v in rows
        )
        parts.append(f"<h3>{escape(group)}</h3><table cellspacing='3'>{cells}</table>")
    return "\n".join(parts)


class HelpDialog(QDialog):
    """A resizable, readable page of help text with a Close button."""

    def __init__(self, title: str, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(560, 520)
        self.browser = QTextBrowser(self)
        self.browser.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
