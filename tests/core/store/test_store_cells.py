"""Saved cells in the real SQLite store: what is kept, the append-only review trail, the tally
with reclassifications applied, the v2 -> v3 migration, and the model activation trail."""

from __future__ import annotations

import dataclasses
import sqlite3
import sys
from pathlib import Path

import pytest
from store_helpers import field_result, session_info

from allscope.core.cells.classifier import CellClassifier
from allscope.core.cells.field import judge_cells
from allscope.core.cells.tracking import CellTracker
from allscope.core.mask.lab_kmeans import lab_kmeans_mask
from allscope.core.store import SessionStore
from allscope.core.store.schema import SCHEMA_VERSION
from allscope.testing import write_tiny_cells_package

sys.path.insert(0, str(Path(__file__).parents[1] / "cells"))
from cell_fields import discs_field


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "store") as s:
        yield s


@pytest.fixture(scope="module")
def judged(tmp_path_factory):
    """A field with four cells (one at the border) judged by a real tiny cell model, tracked."""
    model = CellClassifier(write_tiny_cells_package(tmp_path_factory.mktemp("m") / "cells"))
    image = discs_field([(60, 60), (110, 60), (150, 150), (196, 100)], radius=14)
    mask = lab_kmeans_mask(image)
    cells = judge_cells(model, image, mask)
    tracker = CellTracker(model.classes)
    ids = tuple(tracker.update((100.0, 50.0), cells))
    result = dataclasses.replace(
        field_result(1), cells=dataclasses.replace(cells, track_ids=ids), origin=(100.0, 50.0)
    )
    return image, mask, result, tracker


def test_cells_of_a_saved_field_are_kept_with_their_verdicts(store, judged):
    image, mask, result, _ = judged
    sid = store.create_session(session_info())
    field = store.add_field(sid, "flag", image, mask.mask, result, um_per_px=0.5)
    saved = store.cells(field_id=field.id)
    calls = result.cells.calls
    assert [c.cell_index for c in saved] == [c.cell.index for c in calls] and len(saved) == 4
    for record, call, track in zip(saved, calls, result.cells.track_ids, strict=True):
        assert record.bbox == call.cell.bbox and len(record.contour) == len(call.cell.contour)
        assert record.p_blast == pytest.approx(call.p_blast) and record.is_blast == call.is_blast
        assert record.probabilities == pytest.approx(call.probabilities, abs=1e-6)
        assert record.diameter_um == pytest.approx(call.cell.diameter_px * 0.5, abs=1e-3)
        assert record.slide_xy == pytest.approx(
            (100 + call.cell.centroid[0], 50 + call.cell.centroid[1])
        )
        assert record.track_id == track and record.model == result.cells.model
        assert record.current_label == record.label and record.decision is None
    assert store.cells(session_id=sid) == saved


def test_reviews_are_append_only_and_the_tally_applies_them(store, judged):
    image, mask, result, tracker = judged
    sid = store.create_session(session_info())
    field = store.add_field(sid, "flag", image, mask.mask, result)
    store.record_tally(sid, tracker)
    before = store.cell_tally(sid)
    assert before.wbc == 3 and before.blasts == 3  # the border cell is on no track: not counted
    first, second, *_ = [c for c in store.cells(field_id=field.id) if c.track_id is not None]
    store.review_cell(first.id, "reclassify", "lymphocyte", reviewer="dr a")
    store.review_cell(second.id, "dismiss", comment="smudge", reviewer="dr a")
    after = store.cell_tally(sid)
    assert (after.wbc, after.blasts, after.per_class["lymphocyte"]) == (2, 1, 1)
    store.review_cell(first.id, "reclassify", "blast", reviewer="dr b")  # changed back
    assert store.cell_tally(sid).blasts == 2
    trail = store.cell_reviews(first.id)
    assert [(r.action, r.label, r.reviewer) for r in trail] == [
        ("reclassify", "lymphocyte", "dr a"),
        ("reclassify", "blast", "dr b"),
    ]
    conn = sqlite3.connect(store.db_path)
    for sql in (
        "UPDATE cell_reviews SET label = 'x'",
        "DELETE FROM cell_reviews",
        "UPDATE cells SET label = 'x'",
        "DELETE FROM cells",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only|keeps the verdict|go only"):
            conn.execute(sql)
    conn.close()
    with pytest.raises(ValueError, match="names the new label"):
        store.review_cell(first.id, "reclassify")
    with pytest.raises(ValueError, match="action"):
        store.review_cell(first.id, "delete")
    store.delete_session(sid)  # reviews and cells go with their session only
    assert store.cells(session_id=sid) == []


def test_a_version_3_store_is_migrated_and_keeps_its_fields(tmp_path, judged):
    image, mask, result, _ = judged
    root = tmp_path / "old"
    with SessionStore(root) as s:
        sid = s.create_session(session_info())
        kept = s.add_field(sid, "manual", image, mask.mask, field_result(2))
    conn = sqlite3.connect(root / "sessions.db", isolation_level=None)
    conn.execute("ALTER TABLE sessions DROP COLUMN cell_model")  # back to version 3
    for table in ("cell_reviews", "cells", "tally_cells", "model_activations"):
        conn.execute(f"DROP TABLE {table}")
    conn.execute("PRAGMA user_version = 3")
    conn.close()
    with SessionStore(root) as s:
        assert s.get_field(kept.id).image_sha256 == kept.image_sha256
        field = s.add_field(sid, "flag", image, mask.mask, result)
        assert len(s.cells(field_id=field.id)) == 4
    conn = sqlite3.connect(root / "sessions.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    conn.close()


def test_model_activations_are_an_append_only_trail(store):
    store.record_activation("cells", "/models/site", "ab" * 32, "cd" * 32, {"auc": 0.91}, "dr a")
    store.record_activation("cells", "/models/cells", "cd" * 32, "ab" * 32, {}, "dr a")
    trail = store.activations()
    assert [(a.package_path, a.figures) for a in trail] == [
        ("/models/site", {"auc": 0.91}),
        ("/models/cells", {}),
    ]
    conn = sqlite3.connect(store.db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM model_activations")
    conn.close()


def test_a_session_names_the_cell_package_in_force(store):
    label = "tiny-cells-site 0+site.1 (abcdef012345, site head 0123456789ab)"
    sid = store.create_session(session_info(cell_model=label))
    assert store.get_session(sid).info.cell_model == label


def test_cell_diameters_follow_the_sessions_scale(store, judged):
    image, mask, result, _ = judged
    sid = store.create_session(session_info(um_per_px=0.1))
    field = store.add_field(sid, "flag", image, mask.mask, result)
    for record, call in zip(store.cells(field_id=field.id), result.cells.calls, strict=True):
        assert record.diameter_um == pytest.approx(call.cell.diameter_px * 0.1, abs=1e-3)
