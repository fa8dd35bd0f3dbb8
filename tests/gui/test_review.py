"""Gallery and review: fields appear only once stored, and the keyboard drives every review
action."""

import threading

import numpy as np
import pytest
from gui_helpers import field_with_cells, result
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from allscope.app.capture import FieldWriter
from allscope.app.field_store import MemoryFieldStore, StoreFullError
from allscope.gui.gallery import GalleryModel
from allscope.gui.review_pane import ReviewPanel


def stored_panel(qtbot, n=3):
    store = MemoryFieldStore()
    model = GalleryModel()
    for i in range(n):  # each at another place on the slide (identical fields would be one entry)
        image, mask = field_with_cells(
            centres=((60 + 70 * i, 50 + 30 * i), (250 - 60 * i, 130 - 20 * i))
        )
        model.add_record(
            store.add_field("flag", image, mask, result(0.6 + 0.1 * i, frame_id=i), None)
        )
    panel = ReviewPanel(model, store)
    qtbot.addWidget(panel)
    panel.resize(900, 400)
    panel.show()
    panel.activateWindow()
    qtbot.waitActive(panel)
    panel.select(0)
    panel.pane.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.pane)
    return panel, store, model


def test_accept_and_dismiss_keys_store_the_decision(qtbot):
    panel, store, model = stored_panel(qtbot)
    ids = [model.record(row).id for row in range(3)]
    assert [store.record(i).decision for i in ids] == [None, None, None]
    qtbot.keyClick(panel.pane, Qt.Key.Key_A)
    assert model.record(0).decision == "accept"
    qtbot.keyClick(panel.pane, Qt.Key.Key_Right)
    assert panel.current_row() == 1
    qtbot.keyClick(panel.pane, Qt.Key.Key_D)
    assert model.record(1).decision == "dismiss"
    assert model.record(2).decision is None
    # the key presses reached the store, not only the gallery's copy
    assert [store.record(i).decision for i in ids] == ["accept", "dismiss", None]


def test_comment_key_edits_and_enter_saves_the_comment(qtbot):
    panel, store, model = stored_panel(qtbot)
    qtbot.keyClick(panel.pane, Qt.Key.Key_C)
    assert QApplication.focusWidget() is panel.pane.comment_edit
    qtbot.keyClicks(panel.pane.comment_edit, "smudge; da")  # "d" and "a" type, not decide
    qtbot.keyClick(panel.pane.comment_edit, Qt.Key.Key_Return)
    assert model.record(0).comment == "smudge; da"
    assert model.record(0).decision is None
    assert QApplication.focusWidget() is panel.pane


def test_overlay_key_toggles_outlines(qtbot):
    panel, _, _ = stored_panel(qtbot)
    assert panel.pane.overlay_box.isChecked()
    qtbot.keyClick(panel.pane, Qt.Key.Key_O)
    assert not panel.pane.overlay_box.isChecked()


def test_arrow_keys_stop_at_the_ends(qtbot):
    panel, _, _ = stored_panel(qtbot, n=2)
    for _ in range(4):
        qtbot.keyClick(panel.pane, Qt.Key.Key_Down)
    assert panel.current_row() == 1
    for _ in range(4):
        qtbot.keyClick(panel.pane, Qt.Key.Key_Up)
    assert panel.current_row() == 0


def test_failed_review_is_reported_and_leaves_the_record(qtbot):
    panel, store, model = stored_panel(qtbot)

    def broken(*args):
        raise OSError("disk full")

    store.review = broken
    with qtbot.waitSignal(panel.error) as signal:
        qtbot.keyClick(panel.pane, Qt.Key.Key_A)
    assert "disk full" in signal.args[0]
    assert model.record(0).decision is None


def test_memory_store_gives_back_the_exact_field_and_mask():
    store = MemoryFieldStore()
    image, mask = field_with_cells()
    record = store.add_field("flag", image, mask, result(0.7), None)
    assert np.array_equal(store.full_image(record.id), image)
    assert np.array_equal(store.mask(record.id), mask.mask)


def test_memory_store_refuses_beyond_its_capacity_with_advice():
    store = MemoryFieldStore(max_fields=1)
    image, mask = field_with_cells()
    store.add_field("manual", image, mask, result(0.1), None)
    with pytest.raises(StoreFullError, match="start a session"):
        store.add_field("manual", image, mask, result(0.1), None)


def test_writer_hands_back_stored_records_and_stops_its_thread():
    store = MemoryFieldStore()
    writer = FieldWriter(store)
    image, mask = field_with_cells()
    assert writer.submit("flag", image, mask, result(0.9), None)
    writer.close()
    outcomes = writer.drain()
    assert len(outcomes) == 1 and outcomes[0].record.id == 1 and outcomes[0].error is None
    assert not writer.thread.is_alive()
    assert not writer.submit("flag", image, mask, result(0.9), None)


def test_writer_refuses_when_its_queue_is_full_and_reports_store_errors():
    release = threading.Event()

    class SlowStore(MemoryFieldStore):
        def add_field(self, *args):
            release.wait(5)
            raise OSError("read-only file system")

    writer = FieldWriter(SlowStore(), max_pending=1)
    image, mask = field_with_cells()
    accepted = [writer.submit("flag", image, mask, result(0.9), None) for _ in range(4)]
    assert accepted.count(False) >= 2 and writer.refused == accepted.count(False)
    release.set()
    writer.close()
    errors = [o.error for o in writer.drain()]
    assert errors and all("read-only" in e for e in errors)
