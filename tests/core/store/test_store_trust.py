"""The session store and the trust features: heat maps beside flagged fields, the v2 schema,
and the count of results outside the model's experience."""

import dataclasses
import hashlib
import sqlite3

import numpy as np
import pytest
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.core.ood import OUTSIDE
from allscope.core.store import SessionStore
from allscope.core.store.schema import MIGRATIONS, SCHEMA_VERSION, migrate


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "store") as s:
        yield s


def ramp(height: int, width: int) -> np.ndarray:
    """A heat map rising left to right, 0..1."""
    return np.tile(np.linspace(0.0, 1.0, width, dtype=np.float32), (height, 1))


def test_flag_heat_map_is_saved_as_8_bit_png_and_reads_back(store):
    sid = store.create_session(session_info())
    image, mask = field_image(1)
    heat = ramp(*mask.shape)
    flag = flag_for(field_result(1), heat_map=heat)
    field = store.add_field(sid, "flag", image, mask, flag.result, flag)
    saved = store.get_field(field.id)
    assert saved.heat_map_path is not None and saved.heat_map_path.parent == store.session_dir(sid)
    assert hashlib.sha256(saved.heat_map_path.read_bytes()).hexdigest() == saved.heat_map_sha256
    assert np.abs(store.heat_map(field.id) - heat).max() <= 0.5 / 255 + 1e-6
    assert saved.flag.heat_map is None  # the array is kept as a file, not in the flag's JSON


def test_field_without_heat_map_has_none(store):
    sid = store.create_session(session_info())
    field = store.add_field(
        sid, "flag", *field_image(2), field_result(2), flag_for(field_result(2))
    )
    assert field.heat_map_path is None and store.heat_map(field.id) is None


def test_heat_map_of_another_size_is_refused_and_leaves_no_file(store):
    sid = store.create_session(session_info())
    image, mask = field_image(3)
    flag = dataclasses.replace(flag_for(field_result(3)), heat_map=np.zeros((5, 5), np.float32))
    with pytest.raises(ValueError, match="heat map's shape"):
        store.add_field(sid, "flag", image, mask, flag.result, flag)
    assert list(store.session_dir(sid).iterdir()) == [] and store.fields(sid) == []


def test_version_1_store_is_migrated_and_keeps_its_fields(tmp_path):
    root = tmp_path / "old"
    with SessionStore(root) as s:
        sid = s.create_session(session_info())
        kept = s.add_field(sid, "manual", *field_image(4), field_result(4))
    conn = sqlite3.connect(root / "sessions.db", isolation_level=None)
    downgrade_from_v4(conn)
    conn.execute("ALTER TABLE fields DROP COLUMN heat_map_file")  # back to what version 1 wrote
    conn.execute("ALTER TABLE fields DROP COLUMN heat_map_sha256")
    downgrade_from_v3(conn)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with SessionStore(root) as s:
        assert s.get_field(kept.id).image_sha256 == kept.image_sha256
        assert s.get_field(kept.id).heat_map_path is None
    conn = sqlite3.connect(root / "sessions.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    conn.close()


def downgrade_from_v4(conn) -> None:
    """Undo schema version 4 (saved cells, cell reviews, the tally, model activations)."""
    conn.execute("ALTER TABLE sessions DROP COLUMN cell_model")
    for table in ("cell_reviews", "cells", "tally_cells", "model_activations"):
        conn.execute(f"DROP TABLE {table}")


def downgrade_from_v3(conn) -> None:
    """Undo schema version 3 (identification columns, signatures, policy history)."""
    for column in ("accession", "date_of_birth", "collection_date", "clinician", "um_per_px"):
        conn.execute(f"ALTER TABLE sessions DROP COLUMN {column}")
    conn.execute("DROP TABLE signatures")
    conn.execute("DROP TABLE policy_changes")


def test_version_2_store_is_migrated_and_gets_its_start_policy(tmp_path):
    root = tmp_path / "v2"
    with SessionStore(root) as s:
        sid = s.create_session(
            session_info(threshold=0.6, flag_policy={"threshold": 0.6}), started_at=50.0
        )
        s.end_session(sid, 60.0)
    conn = sqlite3.connect(root / "sessions.db", isolation_level=None)
    downgrade_from_v4(conn)
    downgrade_from_v3(conn)
    conn.execute("PRAGMA user_version = 2")
    conn.close()
    with SessionStore(root) as s:
        session = s.get_session(sid)
        assert (session.info.patient_id, session.info.accession) == ("P-0042", "")
        assert [(p.changed_at, p.threshold) for p in s.policies(sid)] == [(50.0, 0.6)]
        assert s.signatures(sid) == []


def test_fresh_migration_creates_the_heat_map_columns():
    conn = sqlite3.connect(":memory:", isolation_level=None)
    assert migrate(conn, MIGRATIONS) == SCHEMA_VERSION
    columns = {row[1] for row in conn.execute("PRAGMA table_info(fields)")}
    assert {"heat_map_file", "heat_map_sha256"} <= columns


def test_summary_counts_results_outside_the_models_experience(store):
    sid = store.create_session(session_info())
    outside = [
        dataclasses.replace(field_result(i), assessable=False, reasons=(OUTSIDE,)) for i in range(3)
    ]
    store.record_results(sid, [*outside, field_result(9), field_result(10, assessable=False)])
    summary = store.summary(sid)
    assert summary.outside == 3 and summary.analysed == 5
