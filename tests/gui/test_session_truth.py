"""Sessions tell the truth: policy changes are recorded, earlier flags are kept, identity is
fixed while a session runs, and resuming on another source asks first."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from test_sessions_gui import (  # noqa: F401 - fixtures shared with the sessions tests
    FLAG_POLICY,
    WAIT_MS,
    open_flagging_window,
    open_window,
    start_session,
    store,
)

from allscope.core.store import SessionInfo
from allscope.core.store.signoff import policy_at


def test_a_threshold_changed_mid_session_is_recorded_with_its_time(qtbot, open_window, store):  # noqa: F811
    window = open_window(session_store=store, settings={"policy": FLAG_POLICY})
    session_id = start_session(qtbot, window, patient_id="P-1", operator="dr-a")
    window.panels.policy.threshold.setValue(0.65)
    changes = store.policies(session_id)
    assert [round(c.threshold, 2) for c in changes] == [0.3, 0.65]
    assert (
        changes[1].flag_policy["threshold"] == 0.65
        and changes[1].changed_at >= changes[0].changed_at
    )
    assert policy_at(changes, changes[1].changed_at + 1).threshold == 0.65
    assert policy_at(changes, changes[0].changed_at).threshold == 0.3


def test_fields_flagged_before_a_session_are_kept_in_it(qtbot, open_window, store, tmp_path):  # noqa: F811
    window, _ = open_flagging_window(open_window, store, tmp_path)
    qtbot.waitUntil(lambda: len(window.memory_store) >= 1, timeout=WAIT_MS)
    window.window_actions.new_session.trigger()
    dialog = window.sessions.dialog
    assert not dialog.keep_earlier.isHidden() and dialog.keep_earlier.isChecked()
    earlier = len(window.memory_store)
    dialog.edits["patient_id"].setText("P-2")
    dialog.edits["operator"].setText("dr-b")
    dialog.accept()
    session_id = dialog.session_id
    kept = store.fields(session_id)
    assert len(kept) >= earlier and all(f.kind == "flag" for f in kept[:earlier])
    assert kept[0].flag is not None  # the flag itself is kept with its field
    assert len(window.memory_store) == 0


def test_a_session_records_the_microscope_scale_in_force(qtbot, open_window, store):  # noqa: F811
    settings = {"objective": "100× oil", "microns_per_pixel": {"100× oil": 0.1}}
    window = open_window(session_store=store, settings=settings)
    session_id = start_session(qtbot, window, patient_id="P-5", operator="dr-e")
    assert store.get_session(session_id).info.um_per_px == 0.1
    assert window.live_view.microns_per_pixel == 0.1
    assert window.store.um_per_px == 0.1  # the session's saved cells get diameters in µm


def test_identity_fields_are_locked_while_the_session_runs(qtbot, open_window, store):  # noqa: F811
    window = open_window(session_store=store)
    edit = window.panels.policy.session_edits["patient_id"]
    assert not edit.isReadOnly()
    start_session(qtbot, window, patient_id="P-3", operator="dr-c")
    assert edit.isReadOnly() and "end the session" in edit.toolTip()
    window.sessions.end()
    assert not edit.isReadOnly()


def test_resuming_on_another_source_asks_first(qtbot, open_window, store):  # noqa: F811
    session_id = store.create_session(
        SessionInfo(patient_id="P-4", operator="dr-d", source="camera 2 (1920x1080)")
    )
    window = open_window(session_store=store)
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT_MS)
    assert window.sessions.open(session_id) is False
    box = window.sessions.confirm_box
    assert box is not None and "camera 2" in box.text() and "demo slide" in box.text()
    assert window.sessions.current is None
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert window.sessions.current is not None and window.sessions.current.id == session_id
