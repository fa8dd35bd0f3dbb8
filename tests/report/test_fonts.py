"""The report's shipped fonts: registered once, in fallback order; an install that lost its font
files still writes a report (with the system's fonts), in a fresh interpreter since the test
process has registered them already."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from report_helpers import needs, pdf_text

from allscope.report.fonts import FONT_FILES, font_dir, register_fonts, report_font

ROOT = Path(__file__).resolve().parents[2]


def test_the_shipped_fonts_are_registered_once_in_fallback_order(qapp):
    assert all((font_dir() / name).is_file() for name in FONT_FILES)
    families = register_fonts()
    assert families is register_fonts()
    assert families[0] == "Noto Sans" and len(families) >= 3
    font = report_font(9, bold=True)
    assert font.families() == families and font.bold() and font.pointSizeF() == 9


@needs("pdftotext")
def test_without_its_font_files_the_report_is_still_written(tmp_path):
    code = f"""
from pathlib import Path
import allscope.report.fonts as fonts
fonts.font_dir = lambda: Path({str(tmp_path / "no-fonts")!r})  # the files are gone
from allscope.core.store import SessionInfo, SessionStore
from allscope.report.pdf import write_pdf
with SessionStore(Path({str(tmp_path / "store")!r})) as store:
    sid = store.create_session(SessionInfo(patient_id="P-77", lab_name="Fontless Lab"))
    store.end_session(sid)
    print(write_pdf(store, sid, Path({str(tmp_path / "r.pdf")!r})))
print(fonts.register_fonts(), "Noto Sans" in fonts.report_font(9).families())
"""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stderr
    report, families = done.stdout.strip().split("\n")
    assert families == "[] False"  # none registered, none asked for: the system's default
    text = " ".join(pdf_text(Path(report)).split())
    assert "Fontless Lab" in text and "P-77" in text
