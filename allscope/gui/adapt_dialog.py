"""Adapt to this microscope: the reviewed cells of chosen sessions fit the cell package's blast
decision to this laboratory. The local figures (cross-validated, with 95% intervals) are shown
beside the base package's on the same cells before anything changes; the adapted package is
put in force only on confirmation, the previous one stays one click away, and every
activation goes into the store's audit trail."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from allscope.app.adaptation import AdaptationRefused, LabelledSetError, Plan, evaluate, write
from allscope.app.cells_export import reviewed_cells_to_folder
from allscope.core.cells.classifier import CellClassifier
from allscope.core.store import SessionStore

Activate = Callable[[Path], CellClassifier]  # puts a package in force, returns it loaded


def package_identity(classifier: CellClassifier) -> str:
    """The package's SHA-256: its manifest's digest, which covers model.json (where an adapted
    package records its base's SHA-256) and every file, the site head included."""
    return classifier.package.sha256


def figures_html(record: dict) -> str:
    """The local figures beside the base package's, each with its 95% interval and split."""
    local, base = record["local"], record["base_on_same_cells"]

    def cell(f: dict, key: str) -> str:
        low, high = f[f"{key}_ci95"]
        value = f[key]
        if key == "auc":
            return f"{value:.3f} ({low:.3f}–{high:.3f})"
        return f"{100 * value:.1f}% ({100 * low:.1f}–{100 * high:.1f}%)"

    rows = "".join(
        f"<tr><td>{name}</td><td>{cell(base, key)}</td><td><b>{cell(local, key)}</b></td></tr>"
        for name, key in (
            ("AUC, blast vs other", "auc"),
            ("Blast sensitivity", "sensitivity"),
            ("Specificity", "specificity"),
        )
    )
    counts = record["counts"]
    return (
        f"<p>{counts['blast']} blasts and {counts['other']} other reviewed cells; figures from "
        f"{record['split']} ({record['folds']} folds), 95% intervals in brackets.</p>"
        "<table border='1' cellpadding='3' style='border-collapse: collapse'>"
        "<tr><th>Figure</th><th>Package in force</th><th>Adapted</th></tr>"
        f"{rows}</table><p>Adapted blast threshold: P(blast) ≥ {local['threshold']:.3f}. "
        "These are local estimates on your own reviewed cells, not a validation.</p>"
    )


class AdaptDialog(QDialog):
    """Choose sessions, evaluate, then activate (or go back to the previous package)."""

    def __init__(
        self,
        store: SessionStore,
        base: CellClassifier,
        packages_dir: Path,
        activate: Activate,
        reviewer: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Adapt to this microscope")
        self.store, self.base, self.packages_dir = store, base, packages_dir
        self.activate_package, self.reviewer = activate, reviewer
        self.previous: Path = base.package.path
        self.plan: Plan | None = None
        self.sessions = QListWidget(self)
        for session in store.list_sessions():
            item = QListWidgetItem(f"{session.display_name} (no. {session.id})", self.sessions)
            item.setData(Qt.ItemDataRole.UserRole, session.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
        self.message = QLabel(
            "Tick the sessions whose reviewed cells should teach the decision, "
            "then Evaluate. Nothing changes until you activate.",
            self,
        )
        self.message.setWordWrap(True)
        self.evaluate_button = QPushButton("Evaluate", self)
        self.activate_button = QPushButton("Activate the adapted package", self)
        self.previous_button = QPushButton("Use the previous package", self)
        self.activate_button.setEnabled(False)
        self.previous_button.setEnabled(False)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.activate_button.clicked.connect(self.activate)
        self.previous_button.clicked.connect(self.use_previous)
        buttons = QHBoxLayout()
        for button in (self.evaluate_button, self.activate_button, self.previous_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Cell package in force: {base.package.describe()}", self))
        layout.addWidget(self.sessions, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

    def chosen(self) -> list[int]:
        items = (self.sessions.item(i) for i in range(self.sessions.count()))
        return [
            int(i.data(Qt.ItemDataRole.UserRole))
            for i in items
            if i is not None and i.checkState() == Qt.CheckState.Checked
        ]

    def evaluate(self) -> None:
        """Export the reviewed cells, fit and cross-validate; show the figures or the refusal."""
        self.plan = None
        self.activate_button.setEnabled(False)
        with tempfile.TemporaryDirectory(prefix="allscope-adapt-") as tmp:
            counts = reviewed_cells_to_folder(self.store, self.chosen(), Path(tmp))
            try:
                self.plan = evaluate(self.base, Path(tmp))
            except (AdaptationRefused, LabelledSetError) as exc:
                found = ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "none"
                self.message.setText(f"<b>Not adapted.</b> {exc} (reviewed cells found: {found})")
                return
        self.message.setText(figures_html(self.plan.record))
        self.activate_button.setEnabled(True)

    def activate(self) -> None:
        """Write the adapted package and put it in force (recorded in the audit trail)."""
        if self.plan is None:
            return
        out = self.packages_dir / time.strftime("cells-site-%Y%m%d-%H%M%S")
        path = write(self.plan, out)
        self._switch(path, figures=self.plan.record)
        self.plan = None
        self.activate_button.setEnabled(False)

    def use_previous(self) -> None:
        self._switch(self.previous, figures={})

    def _switch(self, path: Path, figures: dict) -> None:
        before = self.base
        self.base = self.activate_package(path)
        self.store.record_activation(
            "cells",
            str(path),
            package_identity(self.base),
            package_identity(before),
            figures,
            self.reviewer,
        )
        self.previous = before.package.path
        self.previous_button.setEnabled(True)
        self.message.setText(
            f"In force now: {self.base.package.describe()}. The previous package "
            f"({before.package.describe()}) is one click away."
        )
