"""The gallery on a real session store: fields are durable before they show, reviews are audited."""

import dataclasses

import numpy as np
from gui_helpers import field_with_cells, result

from allscope.app.cell_words import CellSummary
from allscope.app.session_fields import SessionFieldStore
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.store import SessionInfo, SessionStore
from allscope.testing import write_tiny_cells_package


def test_added_field_is_saved_and_reads_back_losslessly(tmp_path):
    with SessionStore(tmp_path / "store") as store:
        session = store.create_session(SessionInfo(slide_id="S-1"))
        fields = SessionFieldStore(store, session, reviewer="dr-a")
        image, mask = field_with_cells()
        record = fields.add_field("flag", image, mask, result(0.8), None)
        assert [f.id for f in store.fields(session)] == [record.id]
        assert np.array_equal(fields.full_image(record.id), image)
        assert np.array_equal(fields.mask(record.id), mask.mask)
        reviewed = fields.review(record.id, "accept", "clear blasts")
        assert (reviewed.decision, reviewed.comment) == ("accept", "clear blasts")
        assert [(r.decision, r.reviewer) for r in store.reviews(record.id)] == [("accept", "dr-a")]


def test_resumed_session_shows_saved_fields_with_their_reviews(tmp_path):
    image, mask = field_with_cells()
    with SessionStore(tmp_path / "store") as store:
        session = store.create_session(SessionInfo())
        first = SessionFieldStore(store, session)
        kept = first.add_field("manual", image, mask, result(0.2), None)
        first.review(kept.id, "dismiss", "debris")
    with SessionStore(tmp_path / "store") as store:
        records = SessionFieldStore(store, session).existing_records()
    assert [(r.id, r.kind, r.decision, r.comment) for r in records] == [
        (kept.id, "manual", "dismiss", "debris")
    ]
    assert records[0].thumbnail.shape[1] == 160


def test_a_field_judged_by_cells_keeps_its_cell_summary_also_when_resumed(tmp_path):
    """The gallery speaks cells for a saved field: the summary is taken from the live result
    when saved and rebuilt from the saved cells when a session is resumed."""
    model = CellClassifier(write_tiny_cells_package(tmp_path / "cells", threshold=0.01))
    image, mask = field_with_cells()
    judged = dataclasses.replace(result(0.37), cells=judge_cells(model, image, mask))
    with SessionStore(tmp_path / "store") as store:
        session = store.create_session(SessionInfo())
        saved = SessionFieldStore(store, session).add_field("flag", image, mask, judged, None)
    expected = CellSummary(2, 2, judged.cells.p_blast_max, 0.01)
    assert saved.cells == expected
    with SessionStore(tmp_path / "store") as store:
        records = SessionFieldStore(store, session).existing_records()
    assert records[0].cells is not None
    assert records[0].cells.blasts == 2 and records[0].cells.cells == 2
    assert abs(records[0].cells.p_blast - expected.p_blast) < 1e-6
