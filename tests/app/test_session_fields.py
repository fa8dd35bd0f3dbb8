"""The gallery on a real session store: fields are durable before they show, reviews are audited."""

import dataclasses

import cv2
import numpy as np
import pytest
from gui_helpers import field_with_cells, result
from store_helpers import flag_for

from allscope.app.cell_words import CellSummary
from allscope.app.field_store import MemoryFieldStore
from allscope.app.session_fields import SessionFieldStore, carry_over
from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.store import SessionInfo, SessionStore, StoreError
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


def test_a_field_saved_by_another_window_can_be_reviewed_here(tmp_path):
    image, mask = field_with_cells()
    with SessionStore(tmp_path / "store") as store:
        session = store.create_session(SessionInfo())
        other = SessionFieldStore(store, session).add_field("flag", image, mask, result(0.9), None)
        here = SessionFieldStore(store, session, reviewer="dr-b")
        reviewed = here.review(other.id, "accept", "seen")
        assert (reviewed.id, reviewed.kind, reviewed.decision, reviewed.comment) == (
            other.id, "flag", "accept", "seen")
        assert reviewed.thumbnail.shape == other.thumbnail.shape
        assert reviewed.cells is None
        assert here.review(other.id, None, "").decision is None  # the cached record this time
        assert [r.reviewer for r in store.reviews(other.id)] == ["dr-b", "dr-b"]


def test_a_saved_image_that_cannot_be_read_is_a_store_error_naming_the_file(tmp_path):
    image, mask = field_with_cells()
    with SessionStore(tmp_path / "store") as store:
        session = store.create_session(SessionInfo())
        fields = SessionFieldStore(store, session)
        record = fields.add_field("manual", image, None, result(0.2), None)
        assert not fields.mask(record.id).any()  # a hand capture without a mask: an empty one
        saved = store.get_field(record.id)
        saved.image_path.write_bytes(b"")
        with pytest.raises(StoreError, match=f"{saved.image_path.name}: the saved image cannot"):
            fields.full_image(record.id)
        assert fields.heat_map(record.id) is None


def test_fields_held_before_the_session_are_carried_into_it_with_their_reviews(tmp_path):
    image, mask = field_with_cells()
    memory = MemoryFieldStore()
    flag = flag_for(result(0.9, frame_id=1))
    first = memory.add_field("flag", image, mask, flag.result, flag)
    memory.add_field("manual", image, None, result(0.3, frame_id=2), None)
    third = memory.add_field("manual", image, mask, result(0.4, frame_id=3), None)
    memory.review(first.id, "accept", "blasts")
    memory.review(third.id, None, "look again")
    with SessionStore(tmp_path / "store") as store:
        session = store.create_session(SessionInfo())
        assert carry_over(memory, store, session, "dr-c") == 3
        saved = store.fields(session)
        assert [(f.kind, f.result.frame_id) for f in saved] == [
            ("flag", 1), ("manual", 2), ("manual", 3)]
        assert saved[0].flag is not None and saved[1].flag is None
        assert [(r.decision, r.comment, r.reviewer) for r in store.reviews(saved[0].id)] == [
            ("accept", "(reviewed before the session started) blasts", "dr-c")]
        assert store.reviews(saved[1].id) == []
        assert [(r.decision, r.comment) for r in store.reviews(saved[2].id)] == [
            (None, "(reviewed before the session started) look again")]
        assert np.array_equal(cv2.imread(str(saved[1].image_path)), image)
    assert len(memory) == 0
