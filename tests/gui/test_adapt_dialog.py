"""Adapt to this microscope, in the app: reviewed cells of a real session (rendered blasts and
lymphocytes judged by a real tiny OpenVINO package that cannot tell them apart) teach the site
decision; figures are shown before activation, activation and going back are audited."""

import dataclasses
import json

import numpy as np
import pytest
from store_helpers import field_result, session_info

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.sources.demo.slide import render_field
from allscope.core.store import SessionStore
from allscope.gui.adapt_dialog import AdaptDialog, package_identity
from allscope.testing import CELL_CLASSES, write_tiny_cells_package


@pytest.fixture
def reviewed_session(tmp_path):
    blind = np.zeros((3, len(CELL_CLASSES)))  # P(blast) the same for every cell: AUC 0.5
    base = CellClassifier(write_tiny_cells_package(tmp_path / "base", blind))
    store = SessionStore(tmp_path / "store")
    sid = store.create_session(session_info())
    for i, kind in enumerate(["blast"] * 14 + ["lymphocyte"] * 14):
        image, _, _ = render_field(96, 96, seed=i, n_wbc=1, kinds=(kind,), px_per_um=2.0)
        mask = lab_kmeans_mask(image)
        result = dataclasses.replace(field_result(i), cells=judge_cells(base, image, mask))
        field = store.add_field(sid, "manual", image, mask.mask, result)
        for cell in store.cells(field_id=field.id):
            store.review_cell(cell.id, "reclassify", kind, reviewer="dr")  # the person's call
    store.end_session(sid)
    yield store, sid, base, tmp_path
    store.close()


def test_figures_before_activation_then_activation_and_previous_are_audited(
    qtbot, reviewed_session
):
    store, sid, base, tmp_path = reviewed_session
    active = {}

    def activate(path):
        active["classifier"] = CellClassifier(path)
        return active["classifier"]

    dialog = AdaptDialog(store, base, tmp_path / "packages", activate, reviewer="Dr. Site")
    qtbot.addWidget(dialog)
    dialog.sessions.item(0).setCheckState(dialog.sessions.item(0).checkState().Checked)
    assert dialog.chosen() == [sid]
    dialog.evaluate()
    assert dialog.activate_button.isEnabled(), dialog.message.text()
    text = dialog.message.text()
    assert "AUC, blast vs other" in text and "Package in force" in text and "95% intervals" in text
    assert store.activations() == []  # nothing changes before confirmation
    dialog.activate()
    adapted = active["classifier"]
    assert adapted.package.site_head is not None and base.package.site_head is None
    dialog.use_previous()
    assert active["classifier"].package.path == base.package.path
    trail = store.activations()
    after, before = package_identity(adapted), package_identity(base)
    assert after == adapted.package.sha256 != before == base.package.sha256
    recorded = json.loads((adapted.package.path / "model.json").read_text(encoding="utf-8"))
    assert recorded["base"]["sha256"] == before  # the adapted package names its base
    assert [(a.package_sha256, a.previous_sha256, a.reviewer) for a in trail] == [
        (after, before, "Dr. Site"), (before, after, "Dr. Site"),
    ]
    assert trail[0].figures["local"]["auc"] > trail[0].figures["base_on_same_cells"]["auc"]


def test_too_few_reviewed_cells_are_refused_with_the_reason(qtbot, tmp_path):
    base = CellClassifier(write_tiny_cells_package(tmp_path / "base"))
    store = SessionStore(tmp_path / "store")
    sid = store.create_session(session_info())
    dialog = AdaptDialog(store, base, tmp_path / "packages", CellClassifier)
    qtbot.addWidget(dialog)
    dialog.sessions.item(0).setCheckState(dialog.sessions.item(0).checkState().Checked)
    dialog.evaluate()
    assert "Not adapted" in dialog.message.text() and not dialog.activate_button.isEnabled()
    assert store.activations() == [] and sid
    store.close()
