"""Cell review on the real store: cells grouped by type with counts, a digit key reclassifies,
D dismisses, each change lands in the append-only trail and the tally panel follows it."""

import dataclasses
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from store_helpers import field_result, session_info

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.cells.tracking import CellTracker
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.store import SessionStore
from allscope.gui.cell_gallery import CellGallery
from allscope.gui.tally_panel import TallyPanel
from allscope.testing import write_tiny_cells_package

sys.path.insert(0, str(Path(__file__).parents[1] / "core" / "cells"))
from cell_fields import discs_field

PATIENT = {"patient_id": "P-1", "slide_id": "", "operator": "dr", "lab_name": "", "notes": ""}


@pytest.fixture
def cell_model(tmp_path):
    """The tiny real cell package, read by the shipped classifier."""
    return CellClassifier(write_tiny_cells_package(tmp_path / "cells"))


@pytest.fixture
def reviewed(qtbot, tmp_path, cell_model):
    model = cell_model
    image = discs_field([(60, 60), (110, 60), (150, 150)], radius=14)
    mask = lab_kmeans_mask(image)
    cells = judge_cells(model, image, mask)
    tracker = CellTracker(model.classes)
    ids = tuple(tracker.update((0.0, 0.0), cells))
    result = dataclasses.replace(field_result(1), cells=dataclasses.replace(cells, track_ids=ids),
                                 origin=(0.0, 0.0))
    store = SessionStore(tmp_path / "store")
    sid = store.create_session(session_info())
    store.add_field(sid, "flag", image, mask.mask, result, um_per_px=0.1)
    store.record_tally(sid, tracker)
    gallery = CellGallery(store, model.classes, reviewer="Dr. Rev")
    qtbot.addWidget(gallery)
    gallery.show_session(sid)
    panel = TallyPanel()
    qtbot.addWidget(panel)
    gallery.changed.connect(lambda: panel.show_tally(store.cell_tally(sid)))
    panel.show_tally(store.cell_tally(sid))
    yield store, sid, gallery, panel, model
    store.close()


def test_the_tally_says_when_a_cell_is_counted(reviewed):
    """The field's verdict judges cells cut by the edge of the view; the slide count waits until
    a cell is seen whole: the panel says so, so the two never read as a contradiction."""
    panel = reviewed[3]
    assert "counted once per slide" in panel.note.text()
    assert "edge of the view" in panel.note.text()
    assert panel.layout().indexOf(panel.note) > panel.layout().indexOf(panel.progress)


def test_cells_are_grouped_by_type_with_counts(reviewed):
    store, sid, gallery, panel, model = reviewed
    cells = store.cells(session_id=sid)
    counts = gallery.group_counts()
    assert sum(counts.values()) == len(cells) == 3
    for cell in cells:
        assert counts[cell.current_label.capitalize()] >= 1
    assert panel.text("White cells counted") == "3 of 100"


def test_digit_key_reclassifies_and_dismiss_removes_from_the_tally(reviewed, qtbot):
    store, sid, gallery, panel, model = reviewed
    first = store.cells(session_id=sid)[0]
    gallery.select(first.id)
    key = str(model.classes.index("lymphocyte") + 1)
    qtbot.keyClick(gallery.tree, key)
    trail = store.cell_reviews(first.id)
    assert [(r.action, r.label, r.reviewer) for r in trail] == [
        ("reclassify", "lymphocyte", "Dr. Rev")
    ]
    assert store.cells(session_id=sid)[0].current_label == "lymphocyte"
    assert gallery.group_counts()["Lymphocyte"] >= 1
    assert panel.tally.per_class.get("lymphocyte", 0) >= 1
    gallery.select(first.id)
    qtbot.keyClick(gallery.tree, Qt.Key.Key_D)
    assert [r.action for r in store.cell_reviews(first.id)] == ["reclassify", "dismiss"]
    assert gallery.group_counts()["Dismissed"] == 1
    assert panel.tally.wbc == 2 and panel.text("White cells counted") == "2 of 100"


@pytest.fixture
def session_store(tmp_path):
    store = SessionStore(tmp_path / "sessions")
    yield store
    store.close()


@pytest.fixture
def window(qtbot, tmp_path, session_store):
    """The main window on the demo slide with no field model, keeping sessions in
    ``session_store``; the demo source opens in the background."""
    from allscope.gui.app import create_app

    _, window = create_app(["--demo", "--settings-dir", str(tmp_path / "settings"),
                            "--model", str(tmp_path / "no-model")],
                           source_options={"width": 640, "height": 360},
                           session_store=session_store)
    qtbot.addWidget(window)
    yield window
    window.close()


def test_the_window_shows_the_cells_dock_for_the_current_session(window, cell_model):
    window.cell_classifier = cell_model
    sid = window.sessions.create(PATIENT)
    assert window.cells is not None and window.cells.session_id == sid
    assert window.cells.tally.text("White cells counted").endswith("of 100")


def test_a_session_started_before_the_source_opens_records_the_source(
    qtbot, window, session_store
):
    store = session_store
    assert window.controller is None  # the demo opens in the background
    sid = window.sessions.create(PATIENT)
    assert store.get_session(sid).info.source == ""
    qtbot.waitUntil(lambda: window.controller is not None, timeout=60_000)
    qtbot.waitUntil(lambda: store.get_session(sid).info.source != "", timeout=10_000)
    assert store.get_session(sid).info.source.startswith("demo slide")
    assert window.sessions.current.info.source.startswith("demo slide")


def test_the_status_bar_names_the_cell_package_that_judges(qtbot, window, cell_model):
    """Cells judge and the field model only reads the subtype: the status bar names the cell
    package first, its tooltip both packages."""
    qtbot.waitUntil(lambda: window.controller is not None, timeout=60_000)
    window.cell_classifier = cell_model
    package = window.cell_classifier.package
    window._housekeeping_tick()
    assert window.status_bar.text("model") == f"Model: {package.name} {package.version}"
    assert window.status_bar.labels["model"].toolTip() == f"{package.describe()} + no model"


def test_adapt_to_this_microscope_opens_from_the_cells_dock(window, cell_model):
    window.cell_classifier = cell_model
    window.sessions.create(PATIENT)
    window.cells.adapt_button.click()
    dialog = window.adapt_dialog
    assert dialog is not None and dialog.sessions.count() == 1
    assert not dialog.activate_button.isEnabled()  # nothing can be activated before evaluation


def test_the_viewer_outlines_the_cells_with_their_reviewed_labels_and_enlarges_one(reviewed, qtbot):
    from allscope.app.cell_overlay import overlays
    from allscope.gui.field_viewer import FieldViewer

    store, sid, gallery, panel, model = reviewed
    saved = store.cells(session_id=sid)
    store.review_cell(saved[0].id, "reclassify", "monocyte", reviewer="dr")
    store.review_cell(saved[1].id, "dismiss", reviewer="dr")
    field = store.get_field(saved[0].field_id)
    shown = overlays(store.cells(field_id=field.id), None)
    assert len(shown) == len(saved) - 1  # the dismissed cell is not drawn
    assert shown[0].label == "monocyte" and shown[0].caption.startswith("monocyte ")
    viewer = FieldViewer()
    qtbot.addWidget(viewer)
    viewer.resize(500, 400)
    viewer.show()
    import cv2

    viewer.set_image(cv2.imread(str(field.image_path)))
    viewer.set_cells(shown)
    texts = [item.text() for item in viewer.scene().items() if hasattr(item, "text")]
    assert any(t.startswith("monocyte") for t in texts)
    assert not viewer.inset.isHidden() and viewer.inset.pixmap().width() == 120
    assert max(shown, key=lambda c: c.p_blast).caption in viewer.inset.toolTip()
