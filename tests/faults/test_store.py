"""Session store faults: read-only versus damaged, quarantine, identities that never repeat,
deletion that touches only its own files, concurrent writers, damaged record text, permissions.

Stores are real SQLite files in temporary folders; commands run as ``allscope sessions``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from store_helpers import field_image as store_field
from store_helpers import field_result, flag_for, session_info

from allscope.core.store import SessionStore

from .conftest import (
    assert_clean,
    env_for,
    field_image,
    remount_read_only,
    run,
    small_fs,
    write_png,
)


def make_store(root: Path, sessions: int = 1, fields: int = 1) -> list[int]:
    ids = []
    with SessionStore(root) as store:
        for n in range(sessions):
            sid = store.create_session(session_info(patient_id=f"P-{n}"))
            store.record_results(sid, [field_result(i) for i in range(3)])
            for i in range(fields):
                image, mask = store_field(i)
                result = field_result(10 + i)
                store.add_field(sid, "flag", image, mask, result, flag_for(result))
            store.end_session(sid)
            ids.append(sid)
    return ids


@pytest.fixture()
def sessions(cli):
    """``allscope sessions --data-dir ROOT ARGS`` in this process."""
    return lambda root, *args: cli("sessions", "--data-dir", root, *args)


DAMAGE = {
    "garbage": lambda data: b"this is not a database" * 100,
    "zeroed_header": lambda data: bytes(100) + data[100:],
    "truncated": lambda data: data[: len(data) // 3],
    "scrambled_pages": lambda data: (
        data[:4096] + bytes(b ^ 0x5A for b in data[4096:8192]) + data[8192:]
    ),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_database_is_called_damaged_and_left_untouched(damage, tmp_path, sessions):
    make_store(tmp_path / "data" / "sessions", sessions=3)
    db = tmp_path / "data" / "sessions" / "sessions.db"
    db.write_bytes(DAMAGE[damage](db.read_bytes()))
    before = db.read_bytes()
    outcome = sessions(tmp_path / "data", "list")
    assert_clean(outcome, "sessions.db", "damaged", "quarantine", status=3)
    assert db.read_bytes() == before


def test_a_read_only_store_is_not_called_damaged(tmp_path, sessions):
    with small_fs("2m") as mount:
        make_store(mount / "sessions")
        remount_read_only(mount)
        outcome = sessions(mount, "list")
        assert_clean(outcome, "sessions.db", "cannot be written", "not damaged", status=2)
        assert "quarantine it" not in outcome.text.replace("Do not quarantine it", "")


@pytest.mark.parametrize("what", ["file", "folder"])
def test_a_store_without_write_permission_is_not_called_damaged(what, tmp_path):
    root = tmp_path / "data" / "sessions"
    make_store(root)
    target = root / "sessions.db" if what == "file" else root
    target.chmod(0o444 if what == "file" else 0o555)
    try:
        outcome = run(
            tmp_path, "sessions", "--data-dir", tmp_path / "data", "list", permissions_apply=True
        )
        assert_clean(outcome, "sessions.db", "not damaged", status=2)
        assert "is damaged" not in outcome.text
    finally:
        target.chmod(0o700 if what == "folder" else 0o600)


def test_quarantine_refuses_a_healthy_database(tmp_path, sessions):
    make_store(tmp_path / "data" / "sessions")
    db = tmp_path / "data" / "sessions" / "sessions.db"
    outcome = sessions(tmp_path / "data", "quarantine")
    assert_clean(outcome, "integrity check", "--force", status=2)
    assert db.is_file() and not list(db.parent.glob("sessions.db.corrupt*"))
    assert "P-0" in sessions(tmp_path / "data", "list").out


def test_quarantine_with_force_moves_a_healthy_database(tmp_path, sessions):
    make_store(tmp_path / "data" / "sessions")
    outcome = sessions(tmp_path / "data", "quarantine", "--force")
    assert_clean(outcome, "moved", status=0)
    assert len(list((tmp_path / "data" / "sessions").glob("sessions.db.corrupt*"))) == 1


def test_quarantine_moves_a_damaged_database(tmp_path, sessions):
    make_store(tmp_path / "data" / "sessions")
    db = tmp_path / "data" / "sessions" / "sessions.db"
    db.write_bytes(b"garbage" * 500)
    assert_clean(sessions(tmp_path / "data", "quarantine"), "moved", status=0)
    (kept,) = db.parent.glob("sessions.db.corrupt*")
    assert kept.read_bytes() == b"garbage" * 500
    assert_clean(sessions(tmp_path / "data", "list"), "No sessions", status=0)


def test_quarantine_without_a_database_says_so(tmp_path, sessions):
    (tmp_path / "data" / "sessions").mkdir(parents=True)
    assert_clean(sessions(tmp_path / "data", "quarantine"), "no session database", status=2)


@pytest.mark.parametrize("deleted_first", [False, True], ids=["kept", "deleted-before-quarantine"])
def test_session_identity_never_repeats_after_quarantine(deleted_first, tmp_path):
    root = tmp_path / "sessions"
    (old,) = make_store(root)
    old_files = sorted(p.name for p in (root / f"session-{old:06d}").iterdir())
    if deleted_first:
        with SessionStore(root) as store:
            store.delete_session(old)
    SessionStore.quarantine(root, force=True)
    (new,) = make_store(root)
    assert new > old
    assert (root / f"session-{new:06d}").is_dir()
    if not deleted_first:
        assert sorted(p.name for p in (root / f"session-{old:06d}").iterdir()) == old_files


def test_deleting_a_session_removes_only_its_own_files(tmp_path):
    root = tmp_path / "sessions"
    first, second = make_store(root, sessions=2)
    folder = root / f"session-{first:06d}"
    (folder / "evidence-from-elsewhere.png").write_bytes(b"not the session's")
    other = sorted((root / f"session-{second:06d}").iterdir())
    with SessionStore(root) as store:
        store.delete_session(first)
        assert [s.id for s in store.list_sessions()] == [second]
    assert [p.name for p in folder.iterdir()] == ["evidence-from-elsewhere.png"]
    assert sorted((root / f"session-{second:06d}").iterdir()) == other


def test_deleting_a_session_after_a_quarantine_spares_the_old_evidence(tmp_path):
    """The reported fault: the new session 1 wrote into, and deleted, the old session 1's folder."""
    root = tmp_path / "sessions"
    (old,) = make_store(root)
    evidence = sorted((root / f"session-{old:06d}").iterdir())
    SessionStore.quarantine(root, force=True)
    (new,) = make_store(root)
    with SessionStore(root) as store:
        store.delete_session(new)
    assert sorted((root / f"session-{old:06d}").iterdir()) == evidence


WRITER = """
import sys
from allscope.core.store import SessionStore, SessionInfo
with SessionStore(sys.argv[1]) as store:
    for n in range(int(sys.argv[2])):
        store.create_session(SessionInfo(patient_id=f"{sys.argv[3]}-{n}"))
"""


def test_concurrent_writers_never_share_an_identity(tmp_path):
    root = tmp_path / "sessions"
    SessionStore(root).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(root), "15", name],
            env=env_for(tmp_path),
            stderr=subprocess.PIPE,
        )
        for name in ("a", "b", "c")
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], errors
    with SessionStore(root) as store:
        ids = [s.id for s in store.list_sessions()]
        assert store.integrity_check() == ["ok"]
    assert len(ids) == 45 == len(set(ids))
    assert len([p for p in root.glob("session-*") if p.is_dir()]) == 45


def test_a_reader_lists_while_a_writer_writes(tmp_path, sessions):
    root = tmp_path / "data" / "sessions"
    make_store(root)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(root), "30", "w"], env=env_for(tmp_path)
    )
    listings = [sessions(tmp_path / "data", "list") for _ in range(3)]
    assert writer.wait(timeout=120) == 0
    for outcome in listings:
        assert_clean(outcome, "P-0", status=0)


def _corrupt_text(db: Path, table: str, column: str, value: bytes) -> None:
    conn = sqlite3.connect(db)
    conn.execute(
        f"UPDATE {table} SET {column} = CAST(? AS TEXT) "
        f"WHERE rowid = (SELECT min(rowid) FROM {table})",
        (value,),
    )
    conn.commit()
    conn.close()


DAMAGED_TEXT = [
    ("results", "reasons", b'["out of fo\xff\xfe'),
    ("results", "classes", b'{"not": "a list"}'),
    ("results", "probabilities", b"[0.1, 0.2"),
    ("fields", "result", b'{"frame_id": 1, "ti\xc3'),
    ("fields", "flag", b'{"start_index": "x"'),
    ("sessions", "camera_settings", b"{broken"),
    ("sessions", "patient_id", b"P-\xff\xfe\xfd"),
]


@pytest.mark.parametrize(
    ("table", "column", "value"), DAMAGED_TEXT, ids=[f"{t}.{c}" for t, c, _ in DAMAGED_TEXT]
)
def test_exports_mark_records_they_cannot_decode(table, column, value, tmp_path, sessions):
    (sid,) = make_store(tmp_path / "data" / "sessions")
    _corrupt_text(tmp_path / "data" / "sessions" / "sessions.db", table, column, value)
    out = tmp_path / "out"
    out.mkdir()
    outcome = sessions(
        tmp_path / "data",
        "export",
        str(sid),
        "--csv",
        str(out / "s.csv"),
        "--json",
        str(out / "s.json"),
        "--pdf",
        str(out / "s.pdf"),
    )
    assert_clean(outcome, status=0)
    document = json.loads((out / "s.json").read_text(encoding="utf-8"))
    text = json.dumps(document, ensure_ascii=False) + (out / "s.csv").read_text(encoding="utf-8")
    assert "record damaged" in text or "\ufffd" in text or "damaged" in text, text[:2000]
    assert (out / "s.pdf").read_bytes().startswith(b"%PDF")
    assert_clean(sessions(tmp_path / "data", "list"), status=0)


def test_a_bit_flipped_in_the_database_file_is_survived(tmp_path, sessions):
    """A flip inside stored JSON text: SQLite has no page checksums, quick_check passes."""
    (sid,) = make_store(tmp_path / "data" / "sessions")
    db = tmp_path / "data" / "sessions" / "sessions.db"
    with SessionStore(db.parent):
        pass  # checkpoint: the rows are in the main file now
    data = bytearray(db.read_bytes())
    at = data.find(b'"reasons": [')
    assert at > 0
    data[at + 1] ^= 0x40  # '"reasons"' -> '"2easons"'... a valid byte, broken JSON shape
    data[at + len(b'"reasons": [')] ^= 0x80
    db.write_bytes(bytes(data))
    outcome = sessions(tmp_path / "data", "export", str(sid), "--json", str(tmp_path / "s.json"))
    assert_clean(outcome, status=(0, 3))


def test_patient_data_is_readable_by_its_owner_only(tmp_path):
    root = tmp_path / "sessions"
    (sid,) = make_store(root)
    assert os.stat(root).st_mode & 0o777 == 0o700
    assert os.stat(root / "sessions.db").st_mode & 0o777 == 0o600
    folder = root / f"session-{sid:06d}"
    assert os.stat(folder).st_mode & 0o777 == 0o700
    assert {os.stat(p).st_mode & 0o777 for p in folder.iterdir()} == {0o600}


def test_overwrite_keeps_the_previous_report_when_its_manifest_cannot_be_written(
    tmp_path, sessions
):
    (sid,) = make_store(tmp_path / "data" / "sessions")
    report = tmp_path / "report.pdf"
    assert_clean(sessions(tmp_path / "data", "export", str(sid), "--pdf", str(report)), status=0)
    previous = report.read_bytes()
    sidecar = tmp_path / "report.pdf.manifest.json"
    sidecar.unlink()
    sidecar.mkdir()  # the manifest cannot be written: a folder is in the way
    outcome = sessions(tmp_path / "data", "export", str(sid), "--pdf", str(report), "--overwrite")
    assert_clean(outcome, "manifest.json", status=2)
    assert report.read_bytes() == previous
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_analyze_pdf_with_a_store_missing_a_column_says_so_and_keeps_the_json(tmp_path, cli):
    """A store at the current schema version without one of its columns (a development build
    wrote it): the analysis is not thrown away with a raw SQLite error."""
    write_png(image := tmp_path / "f.png", field_image(0))
    assert_clean(cli("analyze", image, "--no-model", "--pdf", tmp_path / "r.pdf"), status=0)
    db = tmp_path / "data" / "sessions" / "sessions.db"
    with sqlite3.connect(db) as conn:
        conn.execute("ALTER TABLE sessions DROP COLUMN um_per_px")
    outcome = cli("analyze", image, "--no-model", "--json", tmp_path / "r.json",
                  "--pdf", tmp_path / "again.pdf")
    assert_clean(outcome, "PDF report was not written", "sessions.um_per_px", status=2)
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["fields"]
    assert not (tmp_path / "again.pdf").exists()
