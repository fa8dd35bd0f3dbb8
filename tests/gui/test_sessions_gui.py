"""Sessions in the desktop app, end to end: real SQLite store, real threads, real PDFs."""

import json
import shutil
import sqlite3
import subprocess
import threading

import cv2
import pytest
from gui_helpers import field_with_cells, result, write_tiny_model
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox, QFileDialog, QInputDialog, QMessageBox

from allscope import __version__
from allscope.app.field_store import MemoryFieldStore
from allscope.app.session_fields import SessionFieldStore
from allscope.app.settings import SETTINGS_FILE
from allscope.core.store import SessionInfo, SessionStore, StoreError
from allscope.core.store.schema import SCHEMA_VERSION
from allscope.gui.app import create_app
from allscope.gui.session_dialog import SessionDialog

SMALL_DEMO = {"width": 640, "height": 360}
WAIT_MS = (
    30000  # generous for the shared CI machine; every wait ends as soon as the state is reached
)
FLAG_POLICY = {"threshold": 0.3, "consecutive": 1, "release": 0.1, "require_still": False}
RAW_COLOURS = False  # the tiny model reads the demo's own stain colour: no colour normalisation


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "store") as s:
        yield s


@pytest.fixture
def open_window(window_opener, tmp_path):
    """Opens windows on the small demo slide (no model unless given); checks no thread is left."""

    def _open(*argv, session_store=None, settings: dict | None = None):
        settings_dir = tmp_path / "settings"
        settings_dir.mkdir(exist_ok=True)
        if settings is not None:
            (settings_dir / SETTINGS_FILE).write_text(json.dumps(settings), encoding="utf-8")
        args = ["--demo", "--settings-dir", str(settings_dir), *argv]
        if "--model" not in argv:
            args += ["--model", str(tmp_path / "no-model"), "--no-cell-model"]
        return window_opener(args, source_options=SMALL_DEMO, session_store=session_store)

    return _open


def open_flagging_window(open_window, store, tmp_path, **settings):
    """A window on the tiny model with a policy that flags the demo's stained fields, keeping
    sessions in ``store``; ``settings`` adds to the settings file. Returns it and the package."""
    package = write_tiny_model(tmp_path / "model")
    window = open_window(
        "--model",
        str(tmp_path / "model"),
        session_store=store,
        settings={"policy": FLAG_POLICY, "normalize_colour": RAW_COLOURS, **settings},
    )
    return window, package


def start_session(qtbot, window, **values) -> int:
    """Session ▸ New session…, fill the dialog, press Start session."""
    window.window_actions.new_session.trigger()
    dialog = window.sessions.dialog
    for key, text in values.items():
        if key == "notes":
            dialog.notes.setPlainText(text)
        else:
            dialog.edits[key].setText(text)
    qtbot.mouseClick(
        dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton
    )
    assert dialog.session_id is not None, dialog.message.text()
    return dialog.session_id


def capture_one(qtbot, window) -> int:
    """Capture the field on screen by hand and wait until the gallery shows it; its id.

    Flags may land in the gallery meanwhile (the shipped cell model flags the demo's blasts),
    so the wait is for the new hand-captured record, not for a row count.
    """
    qtbot.waitUntil(
        lambda: window.controller is not None and window.controller.latest() is not None,
        timeout=WAIT_MS,
    )
    before = {r.id for r in window.gallery_model.records()}

    def new_manual() -> list[int]:
        records = window.gallery_model.records()
        return [r.id for r in records if r.kind == "manual" and r.id not in before]

    assert window.capture_current()
    qtbot.waitUntil(lambda: len(new_manual()) == 1, timeout=WAIT_MS)
    return new_manual()[0]


def save_field(store, session_id, p_all=0.8):
    shift = int(
        p_all * 100
    )  # another place on the slide for each (identical fields make one entry)
    image, mask = field_with_cells(
        centres=((30 + shift, 40 + shift // 2), (290 - shift, 150 - shift))
    )
    return store.add_field(session_id, "flag", image, mask.mask, result(p_all), None)


def test_dialog_needs_the_patient_id_and_operator_and_keeps_the_typing_when_the_store_fails(qtbot):
    created = []

    def create(values):
        if created:
            raise StoreError("The disk is full.")
        created.append(values)
        return 7

    dialog = SessionDialog({"patient_id": "P-1", "lab": "Haematology"}, create)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert dialog.edits["lab_name"].text() == "Haematology" and not ok.isEnabled()
    assert "operator" in dialog.message.text()
    dialog.edits["operator"].setText("  Dr. Zoë  ")
    assert ok.isEnabled()
    dialog.accept()
    assert (
        dialog.session_id == 7
        and created[0]["operator"] == "Dr. Zoë"
        and created[0]["patient_id"] == "P-1"
    )
    dialog.session_id = None
    dialog.accept()  # the second create fails: the dialog stays with the store's message
    assert dialog.session_id is None and "The disk is full." in dialog.message.text()
    assert dialog.edits["operator"].text() == "  Dr. Zoë  "


def test_new_session_stores_the_entered_fields_and_the_app_state(
    qtbot, open_window, store, tmp_path
):
    window, package = open_flagging_window(
        open_window, store, tmp_path, session_info={"patient_id": "P-7", "lab": "Haematology"}
    )
    qtbot.waitUntil(lambda: window.controller is not None, timeout=WAIT_MS)
    session_id = start_session(
        qtbot, window, slide_id="S-1", operator="Dr. Zoë", notes="Wright stain"
    )
    info = store.get_session(session_id).info
    assert (info.patient_id, info.slide_id, info.operator, info.lab_name, info.notes) == (
        "P-7",
        "S-1",
        "Dr. Zoë",
        "Haematology",
        "Wright stain",
    )
    assert info.source.startswith("demo slide") and "640x360" in info.source
    assert (info.model_name, info.model_version, info.model_sha256) == (
        "tiny-purple", "test", package.sha256,
    )
    assert info.app_version == __version__
    assert info.threshold == 0.3 and info.flag_policy == FLAG_POLICY
    assert window.sessions.current.id == session_id and not store.get_session(session_id).finished
    assert window.settings.session_info["operator"] == "Dr. Zoë"
    assert window.panels.policy.session_edits["operator"].text() == "Dr. Zoë"
    assert "P-7 / S-1" in window.windowTitle()


def test_flag_is_stored_in_the_session_before_the_gallery_shows_it_and_results_are_recorded(
    qtbot, open_window, store, tmp_path
):
    window, _ = open_flagging_window(open_window, store, tmp_path)
    session_id = start_session(qtbot, window, patient_id="P-8", operator="dr-f")
    qtbot.waitUntil(
        lambda: any(r.kind == "flag" for r in window.gallery_model.records()), timeout=WAIT_MS
    )
    flagged = next(r for r in window.gallery_model.records() if r.kind == "flag")
    saved = store.get_field(flagged.id)
    assert saved.session_id == session_id and saved.kind == "flag" and saved.flag is not None
    assert cv2.imread(str(saved.image_path)).shape == (360, 640, 3)
    assert saved.result.p_all >= 0.3 and saved.result.classes == (
        "Benign", "Early Pre-B", "Pre-B", "Pro-B",
    )
    results = store.results(session_id)
    assert len(results) > 0 and any(r["p_all"] is not None for r in results)
    summary = store.summary(session_id)
    assert (
        summary.analysed >= len(results) and summary.flagged_fields >= 1
    )  # results still arrive live


def test_keyboard_review_lands_in_the_audit_trail_under_the_operator(qtbot, open_window, store):
    window = open_window(session_store=store)
    start_session(qtbot, window, patient_id="P-3", operator="dr-k")
    field_id = capture_one(qtbot, window)
    window.panels.review.select(0)
    window.activateWindow()
    qtbot.waitActive(window)
    window.panels.review.pane.setFocus()
    qtbot.keyClick(window.panels.review.pane, Qt.Key.Key_A)
    qtbot.keyClick(window.panels.review.pane, Qt.Key.Key_C)
    qtbot.keyClicks(window.panels.review.pane.comment_edit, "smudge")
    qtbot.keyClick(window.panels.review.pane.comment_edit, Qt.Key.Key_Return)
    trail = [(r.decision, r.comment, r.reviewer) for r in store.reviews(field_id)]
    assert trail == [("accept", "", "dr-k"), ("accept", "smudge", "dr-k")]
    assert window.gallery_model.record(0).decision == "accept"


@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)
def test_export_pdf_from_the_menu_writes_the_report_on_a_worker_thread(
    qtbot, open_window, store, tmp_path, monkeypatch
):
    window = open_window(session_store=store)
    start_session(
        qtbot, window, patient_id="محمد رضایی", slide_id="S-4711", operator="Dr. Zoë",
        lab_name="Haem Lab",
    )
    capture_one(qtbot, window)
    target = tmp_path / "report.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.window_actions.export["pdf"].trigger()
    job = window.sessions.export_job
    assert job.worker_thread.name == "allscope-export-pdf"
    assert job.worker_thread is not threading.main_thread()
    qtbot.waitUntil(lambda: "was saved as" in window.banner.text(), timeout=WAIT_MS)
    assert job.written == target and str(target) in window.banner.text()
    assert target.read_bytes()[:5] == b"%PDF-"
    assert target.with_name("report.pdf.manifest.json").is_file()
    text = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(target), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    assert "S-4711" in text and "Haem Lab" in text and "Page 1 of" in text
    assert "screening aid, not a diagnosis" in text.lower()


def test_csv_and_json_exports_pick_a_free_name_instead_of_overwriting(
    qtbot, open_window, store, tmp_path
):
    window = open_window(session_store=store)
    session_id = start_session(qtbot, window, patient_id="P-5", operator="dr-e")
    capture_one(qtbot, window)
    (tmp_path / "results.csv").write_text("older file", encoding="utf-8")
    job = window.sessions.export("csv", path=tmp_path / "results.csv")
    qtbot.waitUntil(lambda: job.written is not None or job.error is not None, timeout=WAIT_MS)
    assert job.written == tmp_path / "results (2).csv" and job.error is None
    assert (tmp_path / "results.csv").read_text(encoding="utf-8") == "older file"
    rows = job.written.read_text(encoding="utf-8-sig").splitlines()
    assert (
        rows[0].startswith("session_id,") and len(rows) > 1 and rows[1].startswith(f"{session_id},")
    )
    job = window.sessions.export("json", path=tmp_path / "session.json")
    qtbot.waitUntil(lambda: job.written is not None or job.error is not None, timeout=WAIT_MS)
    document = json.loads(job.written.read_text(encoding="utf-8"))
    assert document["session"]["patient_id"] == "P-5" and len(document["fields"]) == 1


def test_export_to_a_missing_folder_is_explained_in_the_banner(qtbot, open_window, store, tmp_path):
    window = open_window(session_store=store)
    start_session(qtbot, window, patient_id="P-6", operator="dr-m")
    job = window.sessions.export("pdf", path=tmp_path / "no-such-folder" / "report.pdf")
    qtbot.waitUntil(lambda: "was not saved" in window.banner.text(), timeout=WAIT_MS)
    assert "does not exist" in window.banner.text() and job.written is None
    assert not (tmp_path / "no-such-folder").exists()


def test_corrupt_database_at_start_up_is_set_aside_and_the_window_still_opens(
    qtbot, open_window, session_data_dir
):
    root = session_data_dir / "sessions"
    root.mkdir(parents=True)
    (root / "sessions.db").write_bytes(b"not a database " * 200)
    window = open_window()
    assert "was damaged" in window.banner.text() and "moved aside" in window.banner.text()
    kept = list(root.glob("sessions.db.corrupt-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == b"not a database " * 200
    assert (
        window.sessions.store.list_sessions() == []
        and window.window_actions.new_session.isEnabled()
    )
    start = window.displayed
    qtbot.waitUntil(lambda: window.displayed >= start + 3, timeout=WAIT_MS)


def test_store_from_a_newer_version_leaves_sessions_off_and_fields_in_memory(
    qtbot, open_window, session_data_dir
):
    root = session_data_dir / "sessions"
    root.mkdir(parents=True)
    conn = sqlite3.connect(root / "sessions.db")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = (root / "sessions.db").read_bytes()
    window = open_window()
    assert "newer allscope" in window.banner.text() and "Sessions are off" in window.banner.text()
    assert window.sessions.store is None and not window.window_actions.new_session.isEnabled()
    capture_one(qtbot, window)
    assert isinstance(window.store, MemoryFieldStore)
    assert (root / "sessions.db").read_bytes() == before


def test_unfinished_session_is_offered_and_resume_brings_back_its_reviewed_fields(
    qtbot, open_window, session_data_dir
):
    with SessionStore(session_data_dir / "sessions") as earlier:
        session_id = earlier.create_session(SessionInfo(patient_id="P-9", operator="dr-r"))
        field = save_field(earlier, session_id)
        earlier.review(field.id, "accept", "kept", "dr-r")
    window = open_window()
    assert "P-9" in window.banner.text() and "was not ended" in window.banner.text()
    window.banner.buttons["resume"].click()
    assert window.sessions.current.id == session_id and "resume" not in window.banner.buttons
    qtbot.waitUntil(lambda: window.gallery_model.rowCount() == 1, timeout=WAIT_MS)
    record = window.gallery_model.record(0)
    assert (record.id, record.decision, record.comment) == (field.id, "accept", "kept")
    assert isinstance(window.store, SessionFieldStore) and window.store.reviewer == "dr-r"
    new_id = capture_one(qtbot, window)
    assert [f.id for f in window.sessions.store.fields(session_id)] == [field.id, new_id]


def test_sessions_list_searches_renames_and_deletes_after_confirmation(
    qtbot, open_window, store, monkeypatch
):
    first = store.create_session(SessionInfo(patient_id="P-100", slide_id="S-1"), started_at=1000.0)
    second = store.create_session(
        SessionInfo(patient_id="P-200", slide_id="S-2"), started_at=2000.0
    )
    third = store.create_session(SessionInfo(patient_id="P-300", slide_id="S-9"), started_at=3000.0)
    save_field(store, first)
    window = open_window(session_store=store)
    listing = window.sessions.show_sessions()
    qtbot.addWidget(listing)
    assert listing.listed_ids() == [third, second, first]
    listing.search.setText("P-2")
    assert listing.listed_ids() == [second]
    listing.search.setText("s-9")
    assert listing.listed_ids() == [third]
    listing.search.clear()
    assert listing.select_id(second)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Morning slide", True))
    listing.buttons["rename"].click()
    assert store.get_session(second).name == "Morning slide"
    listing.search.setText("morning")
    assert listing.listed_ids() == [second]
    listing.search.clear()
    listing.select_id(first)
    answers = iter([QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes])
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: next(answers))
    listing.buttons["delete"].click()  # declined: nothing happens
    assert first in [s.id for s in store.list_sessions()]
    listing.buttons["delete"].click()  # confirmed
    assert [s.id for s in store.list_sessions()] == [third, second]
    assert not store.session_dir(first).exists() and listing.listed_ids() == [third, second]
    assert window.sessions.show_sessions() is listing  # one list window, shown again


def test_opening_a_session_from_the_list_loads_its_fields_and_it_cannot_be_deleted_while_open(
    qtbot, open_window, store, monkeypatch
):
    session_id = store.create_session(SessionInfo(patient_id="P-11", operator="dr-o"))
    saved = [save_field(store, session_id, p).id for p in (0.7, 0.9)]
    window = open_window(session_store=store)
    listing = window.sessions.show_sessions()
    qtbot.addWidget(listing)
    listing.select_id(session_id)
    listing.buttons["open"].click()
    qtbot.waitUntil(lambda: window.gallery_model.rowCount() == 2, timeout=WAIT_MS)
    assert [r.id for r in window.gallery_model.records()] == saved
    window.panels.review.select(1)
    window.panels.review.review("dismiss")
    assert [(r.decision, r.reviewer) for r in store.reviews(saved[1])] == [("dismiss", "dr-o")]
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    listing.buttons["delete"].click()
    assert "current session" in listing.message.text() and store.get_session(session_id)


def test_end_session_stores_the_end_time_and_returns_the_gallery_to_memory(
    qtbot, open_window, store
):
    window = open_window(session_store=store)
    session_id = start_session(qtbot, window, patient_id="P-12", operator="dr-n")
    capture_one(qtbot, window)
    window.window_actions.end_session.trigger()
    assert store.get_session(session_id).finished and window.sessions.current is None
    assert isinstance(window.store, MemoryFieldStore) and window.gallery_model.rowCount() == 0
    assert (
        not window.window_actions.export["pdf"].isEnabled()
        and not window.window_actions.end_session.isEnabled()
    )
    assert len(store.fields(session_id)) == 1


def test_window_capture_and_review_go_through_the_session_store(qtbot, tmp_path):
    with SessionStore(tmp_path / "store") as store:
        session = store.create_session(SessionInfo(operator="dr-b"))
        _, window = create_app(
            [
                "--demo", "--settings-dir", str(tmp_path / "settings"), "--model",
                str(tmp_path / "no-model"), "--no-cell-model",
            ],  # no flags: one captured field
            store=SessionFieldStore(store, session, reviewer="dr-b"),
            source_options={"width": 640, "height": 360},
        )
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(
            lambda: window.displayed > 2 and window.controller.latest() is not None, timeout=30000
        )
        assert window.capture_current()
        qtbot.waitUntil(lambda: window.gallery_model.rowCount() == 1, timeout=30000)
        saved = store.fields(session)
        assert len(saved) == 1 and saved[0].id == window.gallery_model.record(0).id
        window.panels.review.select(0)
        window.activateWindow()
        qtbot.waitActive(window)
        window.panels.review.pane.setFocus()
        qtbot.keyClick(window.panels.review.pane, Qt.Key.Key_A)
        assert [(r.decision, r.reviewer) for r in store.reviews(saved[0].id)] == [
            ("accept", "dr-b")
        ]
        window.close()


def test_space_captures_by_hand_with_the_cells_dock_in_use_while_cells_raise_flags(
    qtbot, open_window, store
):
    """The shipped cell model flags the demo's blasts into the session while the Cells dock
    shows the tally; Space still captures the field by hand, also with the dock's list
    focused, and the tally counts the saved cells."""
    window = open_window("--model", "no-model", session_store=store)  # the shipped cell model
    assert window.cell_classifier is not None
    session_id = start_session(qtbot, window, patient_id="P-9", operator="dr-c")
    assert window.cells is not None and window.cells.session_id == session_id
    qtbot.waitUntil(
        lambda: any(r.kind == "flag" for r in window.gallery_model.records()), timeout=WAIT_MS
    )
    window.activateWindow()
    qtbot.waitActive(window)
    window.cells.gallery.tree.setFocus()
    manual_before = sum(r.kind == "manual" for r in window.gallery_model.records())
    qtbot.keyClick(window.cells.gallery.tree, Qt.Key.Key_Space)
    qtbot.waitUntil(
        lambda: sum(r.kind == "manual" for r in window.gallery_model.records())
        == manual_before + 1,
        timeout=WAIT_MS,
    )
    kinds = {f.kind for f in store.fields(session_id)}
    assert kinds == {"flag", "manual"}
    flagged = next(r for r in window.gallery_model.records() if r.kind == "flag")
    assert flagged.cells is not None and flagged.cells.blasts >= 1  # raised by cells
    label = window.gallery_model.data(window.gallery_model.index(0))
    assert "P(blast)" in label and "P(ALL)" not in label  # the gallery speaks cells
    qtbot.waitUntil(lambda: window.cells.tally.tally.wbc > 0, timeout=WAIT_MS)
    assert store.cells(session_id=session_id)  # the flagged fields' cells were saved
