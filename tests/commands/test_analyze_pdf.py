"""The PDF report of ``allscope analyze --pdf`` with a cell model: the same tally as the JSON
for the same run (every analysed field's cells, not only the saved flagged fields'), and a
Notes line that says exactly which colours each part of the analysis saw. Real tiny OpenVINO
models on rendered fields, a real session store, real PDFs read back with pdftotext."""

from __future__ import annotations

import json
import re
import shutil

import cv2
import pytest
from report_helpers import needs, pdf_text

from allscope.cli import main
from allscope.core.sources.demo.slide import render_field
from allscope.core.store import SessionStore
from allscope.testing import write_tiny_cells_package, write_tiny_package

# painted white-cell types per field: with the tiny models some fields are flagged, others not
KINDS = [("blast",), ("lymphocyte",), ("blast", "lymphocyte"), ("lymphocyte",), ("lymphocyte",)]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One analyze run of five rendered fields with --json and --pdf; its files and its store."""
    root = tmp_path_factory.mktemp("analyze_pdf")
    folder = root / "fields"
    folder.mkdir()
    for seed, kinds in enumerate(KINDS):
        image, _, _ = render_field(320, 240, seed=seed, n_wbc=3, kinds=kinds)
        cv2.imwrite(str(folder / f"f{seed}.png"), image)
    field = write_tiny_package(root / "field").path
    cells = write_tiny_cells_package(root / "cells").path
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ALLSCOPE_DATA_DIR", str(root / "data"))
        code = main(["analyze", str(folder), "--model", str(field), "--cell-model", str(cells),
                     "--json", str(root / "a.json"), "--pdf", str(root / "r.pdf")])
    assert code == 0
    document = json.loads((root / "a.json").read_text(encoding="utf-8"))
    return root, document


def page_one(path) -> str:
    return " ".join(pdf_text(path, 1).split())


def printed_tally(text: str) -> tuple[int, int]:
    """(white cells examined, blasts) as page one states them."""
    examined = re.search(r"White cells examined (\d+)", text)
    blasts = re.search(r"Blasts (\d+) of (\d+) = ", text)
    assert examined and blasts, text
    assert blasts.group(2) == examined.group(1)
    return int(examined.group(1)), int(blasts.group(1))


@needs("pdftotext")
def test_the_pdf_tallies_every_analysed_fields_cells_as_the_json_does(run):
    root, document = run
    unflagged = [f for f in document["fields"] if not f["flagged"] and f["cells"]]
    assert unflagged and any(f["flagged"] for f in document["fields"])  # both kinds of field
    tally = document["tally"]
    assert tally["wbc"] == sum(len(f["cells"]) for f in document["fields"])
    assert printed_tally(page_one(root / "r.pdf")) == (tally["wbc"], tally["blasts"])


@needs("pdftotext")
def test_a_later_export_and_the_store_keep_the_runs_tally(run, tmp_path):
    root, document = run
    with SessionStore(root / "data" / "sessions") as store:
        [session] = store.list_sessions()
        counted = store.cell_tally(session.id)
    assert counted.to_dict()["per_class"] == document["tally"]["per_class"]
    assert (counted.wbc, counted.blasts) == (document["tally"]["wbc"], document["tally"]["blasts"])
    assert main(["sessions", "--data-dir", str(root / "data"), "export", str(session.id),
                 "--pdf", str(tmp_path / "again.pdf")]) == 0
    tally = document["tally"]
    assert printed_tally(page_one(tmp_path / "again.pdf")) == (tally["wbc"], tally["blasts"])


@needs("pdftotext")
def test_the_notes_say_which_colours_the_mask_the_field_model_and_the_cells_saw(run):
    root, _ = run
    text = " ".join(pdf_text(root / "r.pdf").split())
    assert ("Notes mask and field model on colour-normalised frames; "
            "cells judged on the recorded colours") in text
    assert "colour normalised before analysis" not in text


def test_a_reclassified_saved_cell_changes_its_own_count_not_a_second_one(run, tmp_path):
    """The saved (flagged) fields' cells are the tally's cells: a review moves one of them."""
    root, document = run
    shutil.copytree(root / "data", tmp_path / "data")
    with SessionStore(tmp_path / "data" / "sessions") as store:
        [session] = store.list_sessions()
        saved = store.cells(session_id=session.id)
        assert saved and all(c.track_id is not None for c in saved)
        blast = next(c for c in saved if c.current_label == "blast")
        store.review_cell(blast.id, "reclassify", label="lymphocyte", reviewer="dr")
        reviewed = store.cell_tally(session.id)
    tally = document["tally"]
    assert (reviewed.wbc, reviewed.blasts) == (tally["wbc"], tally["blasts"] - 1)
    assert reviewed.per_class["lymphocyte"] == tally["per_class"]["lymphocyte"] + 1
