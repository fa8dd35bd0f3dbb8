"""The session start dialog: who and what is examined, prefilled from the last session.

The user enters the patient or sample ID, a second identifier (date of birth or collection
date), the report/accession number, slide ID, requesting clinician, operator, lab name and
notes; fields flagged before the session can be kept in it. The app adds
what it knows (source and the camera settings the driver granted, model identity, app
version, the threshold and flag policy in force) with :func:`session_info`. OK creates the
session through the ``create`` callback; if the store refuses, the dialog stays open and
says why, so nothing typed is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from allscope import __version__
from allscope.core.flags import FlagPolicy
from allscope.core.store import SessionInfo

FIELDS = {
    "patient_id": "Patient or sample ID",
    "date_of_birth": "Date of birth",
    "collection_date": "Collection date",
    "accession": "Report / accession no.",
    "slide_id": "Slide ID",
    "clinician": "Requesting clinician",
    "operator": "Operator",
    "lab_name": "Laboratory",
}
REQUIRED = ("patient_id", "operator")
SETTINGS_KEYS = {
    "patient_id": "patient_id",
    "slide_id": "slide_id",
    "operator": "operator",
    "lab_name": "lab",
}
MAX_ID_CHARS = 200
MAX_NOTES_CHARS = 20_000


def session_info(
    entered: dict, source=None, package=None, policy: FlagPolicy | None = None,
    cell_model: str = "",
) -> SessionInfo:
    """The SessionInfo for what the user ``entered`` plus the app's own state at the start.

    ``source`` is the running FrameSource (its ``granted()`` camera settings are kept when it
    has them), ``package`` the ModelPackage in use, ``policy`` the flag policy in force."""
    granted = getattr(source, "granted", None)
    camera = granted() if callable(granted) else {}
    policy = policy or FlagPolicy()
    return SessionInfo(
        patient_id=entered.get("patient_id", ""), slide_id=entered.get("slide_id", ""),
        operator=entered.get("operator", ""), lab_name=entered.get("lab_name", ""),
        notes=entered.get("notes", ""), accession=entered.get("accession", ""),
        date_of_birth=entered.get("date_of_birth", ""),
        collection_date=entered.get("collection_date", ""),
        clinician=entered.get("clinician", ""),
        source=source.describe() if source is not None else "",
        camera_settings=dict(camera or {}), model_name=package.name if package else "",
        model_version=package.version if package else "",
        model_sha256=package.sha256 if package else "", app_version=__version__,
        threshold=policy.threshold, flag_policy=policy.to_dict(),
        cell_model=cell_model,
    )


class SessionDialog(QDialog):
    """Asks for the session's information fields; OK calls ``create(entered)`` -> session id."""

    def __init__(
        self, prefill: dict, create: Callable[[dict], int], parent=None, earlier: int = 0
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New session")
        self._create = create
        self.session_id: int | None = None
        self.edits = {key: QLineEdit(self) for key in FIELDS}
        form = QFormLayout()
        for key, label in FIELDS.items():
            edit = self.edits[key]
            edit.setMaxLength(MAX_ID_CHARS)
            if (
                key in SETTINGS_KEYS
            ):  # prefilled from the last session; the newer identifiers start empty
                edit.setText(str(prefill.get(SETTINGS_KEYS[key], prefill.get(key, ""))))
            edit.textChanged.connect(self._update_ok)
            form.addRow(label + (" *" if key in REQUIRED else ""), edit)
        self.notes = QPlainTextEdit(self)
        self.notes.setPlaceholderText("Stain, magnification, clinical question… (optional)")
        self.notes.setFixedHeight(90)
        form.addRow("Notes", self.notes)
        self.keep_earlier = QCheckBox(
            f"Keep the {earlier} field(s) flagged or captured before this session: "
            "they are saved into it",
            self,
        )
        self.keep_earlier.setChecked(True)
        self.keep_earlier.setVisible(earlier > 0)
        form.addRow("", self.keep_earlier)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start session")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._update_ok()

    def entered(self) -> dict[str, Any]:
        """The typed values, stripped; notes are cut at ``MAX_NOTES_CHARS``; ``keep_earlier``
        says whether the fields flagged before the session go into it."""
        values: dict[str, Any] = {key: edit.text().strip() for key, edit in self.edits.items()}
        values["notes"] = self.notes.toPlainText().strip()[:MAX_NOTES_CHARS]
        values["keep_earlier"] = not self.keep_earlier.isHidden() and self.keep_earlier.isChecked()
        return values

    def missing(self) -> list[str]:
        values = {key: edit.text().strip() for key, edit in self.edits.items()}
        return [FIELDS[key] for key in REQUIRED if not values[key]]

    def accept(self) -> None:
        """Create the session; stay open with the store's message if that fails."""
        if self.missing():
            self._update_ok()
            return
        try:
            self.session_id = self._create(self.entered())
        except Exception as exc:  # shown in the dialog; what was typed is kept
            self.message.setText(
                f"<b>The session was not created:</b> {exc} "
                "Check the session folder, or Cancel to go on without a session."
            )
            return
        super().accept()

    def _update_ok(self) -> None:
        missing = self.missing()
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not missing)
        self.message.setText(
            f"Enter the {' and the '.join(m.lower() for m in missing)} to start." if missing else ""
        )
