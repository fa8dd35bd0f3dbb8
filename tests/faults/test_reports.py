"""Hostile text in what allscope shows and writes: terminal escapes in ``sessions list``,
direction overrides in the PDF, spreadsheet formulas in ``analyze --csv`` and session CSVs."""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
import subprocess

import pytest
from store_helpers import field_result, session_info

from allscope.core.store import SessionStore

from .conftest import assert_clean, field_image, write_png

HOSTILE = {
    "clear-screen": "P-\x1b[2J\x1b[H-1",
    "retitle": "P-\x1b]0;pwned\x07-2",
    "carriage-return": "P-3\rFAKE ROW 99",
    "backspace": "P-4\x08\x08\x08XX",
    "bidi-override": "P-\u202egnp.exe",
    "newline": "P-6\n   7  forged line",
    "delete-and-bell": "P-\x7f\x07-8",
}
RAW = ("\x1b", "\x07", "\x08", "\r", "\u202e", "\x7f")


def store_with(root, patient_id: str) -> int:
    with SessionStore(root) as store:
        sid = store.create_session(session_info(patient_id=patient_id))
        store.record_results(sid, [field_result(1)])
        store.end_session(sid)
    return sid


@pytest.mark.parametrize("name", list(HOSTILE))
def test_sessions_list_shows_escapes_never_obeys_them(name, tmp_path, cli):
    store_with(tmp_path / "data" / "sessions", HOSTILE[name])
    outcome = cli("sessions", "--data-dir", tmp_path / "data", "list")
    assert_clean(outcome, "P-", status=0)
    assert not any(c in outcome.out for c in RAW), repr(outcome.out)
    assert len(outcome.out.strip().splitlines()) == 2  # the header and one session: nothing forged


@pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) not installed"
)
def test_a_direction_override_cannot_reverse_the_report_text(tmp_path, cli):
    sid = store_with(tmp_path / "data" / "sessions", "P-\u202egnp.exe")
    pdf = tmp_path / "r.pdf"
    assert_clean(
        cli("sessions", "--data-dir", tmp_path / "data", "export", str(sid), "--pdf", pdf), status=0
    )
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "\u202e" not in text and "exe.png" not in text
    assert "U+202E" in text and "gnp.exe" in text


FORMULAS = ['=HYPERLINK("x")', "+SUM(A1)", "-2+3", "@cmd", "\tTAB", "=1+1"]


@pytest.mark.parametrize("stem", FORMULAS)
def test_analyze_csv_neutralises_spreadsheet_formulas(stem, tmp_path, cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_png(tmp_path / f"{stem}.png", field_image(0))
    outcome = cli("analyze", "--no-model", "--csv", "out.csv", "--", f"{stem}.png")
    assert_clean(outcome, status=0)
    rows = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    assert rows[1][0] == f"'{stem}.png", rows


@pytest.mark.parametrize("patient", ["=cmd|' /C calc'!A0", "+1+1", "@SUM(1)"])
def test_session_csv_neutralises_formulas(patient, tmp_path, cli):
    root = tmp_path / "data" / "sessions"
    with SessionStore(root) as store:
        sid = store.create_session(session_info(patient_id=patient))
        result = field_result(1)
        store.record_results(sid, [dataclasses.replace(result, source=patient, name=patient)])
        store.end_session(sid)
    out = tmp_path / "s.csv"
    assert_clean(
        cli("sessions", "--data-dir", tmp_path / "data", "export", str(sid), "--csv", out), status=0
    )
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    header = rows[0]
    assert rows[1][header.index("source")] == "'" + patient
    assert rows[1][header.index("name")] == "'" + patient
