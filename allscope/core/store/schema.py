"""The session database schema, versioned with ``PRAGMA user_version`` and ordered migrations.

A migration is ``(version, sql)``; opening a store applies, in order and each in its own
transaction, every migration whose version is above the file's ``user_version``. A file whose
version is above :data:`SCHEMA_VERSION` was written by a newer allscope and is left untouched.
"""

from __future__ import annotations

import sqlite3

from allscope.core.store.errors import StoreError

_V1 = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    name TEXT,
    patient_id TEXT NOT NULL DEFAULT '',
    slide_id TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    lab_name TEXT NOT NULL DEFAULT '',
    notes TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    camera_settings TEXT NOT NULL DEFAULT '{}',
    model_name TEXT NOT NULL DEFAULT '',
    model_version TEXT NOT NULL DEFAULT '',
    model_sha256 TEXT NOT NULL DEFAULT '',
    app_version TEXT NOT NULL DEFAULT '',
    threshold REAL,
    flag_policy TEXT NOT NULL DEFAULT '{}',
    started_at REAL NOT NULL,
    ended_at REAL
);
CREATE INDEX sessions_patient ON sessions(patient_id);
CREATE INDEX sessions_slide ON sessions(slide_id);

-- Every flagged or hand-captured field, with its lossless image and mask on disk.
CREATE TABLE fields (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    kind TEXT NOT NULL CHECK (kind IN ('flag', 'manual')),
    created_at REAL NOT NULL,
    image_file TEXT NOT NULL,
    image_sha256 TEXT NOT NULL,
    mask_file TEXT NOT NULL,
    mask_sha256 TEXT NOT NULL,
    preview_file TEXT,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    result TEXT NOT NULL,
    flag TEXT
);
CREATE INDEX fields_session ON fields(session_id);

-- Compact per-frame results (every classified field) for the CSV/JSON export and the summary.
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    recorded_at REAL NOT NULL,
    frame_id INTEGER NOT NULL,
    timestamp REAL NOT NULL,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    frame_index INTEGER,
    wbc_count INTEGER NOT NULL,
    mask_coverage REAL NOT NULL,
    assessable INTEGER NOT NULL,
    reasons TEXT NOT NULL,
    classes TEXT NOT NULL,
    probabilities TEXT,
    label TEXT,
    p_all REAL,
    flagged INTEGER NOT NULL
);
CREATE INDEX results_session ON results(session_id);

-- Sessions removed by the user; their reviews may be deleted only after a row lands here.
CREATE TABLE deleted_sessions (
    session_id INTEGER PRIMARY KEY,
    deleted_at REAL NOT NULL
);

-- Append-only audit trail: the newest row of a field is its current review state.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    field_id INTEGER NOT NULL REFERENCES fields(id),
    session_id INTEGER NOT NULL,
    decision TEXT CHECK (decision IN ('accept', 'dismiss')),
    comment TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE INDEX reviews_field ON reviews(field_id);

CREATE TRIGGER reviews_are_append_only_update BEFORE UPDATE ON reviews
BEGIN
    SELECT RAISE(ABORT, 'reviews are an append-only audit trail: add a new review instead');
END;
CREATE TRIGGER reviews_are_append_only_delete BEFORE DELETE ON reviews
WHEN OLD.session_id NOT IN (SELECT session_id FROM deleted_sessions)
BEGIN
    SELECT RAISE(ABORT, 'reviews are an append-only audit trail: they go only with their session');
END;
"""

# A flagged field's class activation map (8-bit PNG beside the field), when the model has a CAM
# head.
_V2 = """
ALTER TABLE fields ADD COLUMN heat_map_file TEXT;
ALTER TABLE fields ADD COLUMN heat_map_sha256 TEXT;
"""

# What a lab report needs beyond the slide: accession number, a second identifier, the clinician;
# the sign-off of the report (append-only); and every flag policy in force during a session.
_V3 = """
ALTER TABLE sessions ADD COLUMN accession TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN date_of_birth TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN collection_date TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN clinician TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN um_per_px REAL;

CREATE TABLE signatures (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    role TEXT NOT NULL CHECK (role IN ('reviewed', 'verified')),
    name TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX signatures_session ON signatures(session_id);
CREATE TRIGGER signatures_are_append_only_update BEFORE UPDATE ON signatures
BEGIN
    SELECT RAISE(ABORT, 'signatures are an append-only audit trail');
END;
CREATE TRIGGER signatures_are_append_only_delete BEFORE DELETE ON signatures
WHEN OLD.session_id NOT IN (SELECT session_id FROM deleted_sessions)
BEGIN
    SELECT RAISE(ABORT, 'signatures are append-only: they go only with their session');
END;

-- Each flag policy in force during a session, from the time it was set; the first row is the start.
CREATE TABLE policy_changes (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    changed_at REAL NOT NULL,
    threshold REAL,
    flag_policy TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX policy_changes_session ON policy_changes(session_id);
"""

# The white cells of saved fields as judged when saved (never changed), a person's decisions on
# them (append-only, like reviews), the slide tally's distinct cells (live, or every analysed
# field's cells of a batch run; a batch's image cell, which has no slide position, gives its
# place in its field as slide_x, slide_y), and the cell model packages activated (append-only).
_V4 = """
ALTER TABLE sessions ADD COLUMN cell_model TEXT NOT NULL DEFAULT '';

CREATE TABLE cells (
    id INTEGER PRIMARY KEY,
    field_id INTEGER NOT NULL REFERENCES fields(id),
    session_id INTEGER NOT NULL,
    cell_index INTEGER NOT NULL,
    x INTEGER NOT NULL,
    y INTEGER NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    contour TEXT NOT NULL,
    area_px INTEGER NOT NULL,
    diameter_px REAL NOT NULL,
    diameter_um REAL,
    touches_border INTEGER NOT NULL,
    label TEXT NOT NULL,
    probabilities TEXT NOT NULL,
    p_blast REAL NOT NULL,
    is_blast INTEGER NOT NULL,
    threshold REAL NOT NULL,
    model TEXT NOT NULL DEFAULT '',
    slide_x REAL,
    slide_y REAL,
    track_id INTEGER
);
CREATE INDEX cells_field ON cells(field_id);
CREATE INDEX cells_session ON cells(session_id);

CREATE TRIGGER cells_are_immutable BEFORE UPDATE ON cells
BEGIN
    SELECT RAISE(ABORT, 'a saved cell keeps the verdict it was saved with: add a cell review');
END;
CREATE TRIGGER cells_go_only_with_their_session BEFORE DELETE ON cells
WHEN OLD.session_id NOT IN (SELECT session_id FROM deleted_sessions)
BEGIN
    SELECT RAISE(ABORT, 'saved cells go only with their session');
END;

CREATE TABLE cell_reviews (
    id INTEGER PRIMARY KEY,
    cell_id INTEGER NOT NULL REFERENCES cells(id),
    session_id INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('reclassify', 'accept', 'dismiss')),
    label TEXT,
    comment TEXT NOT NULL DEFAULT '',
    reviewer TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL,
    CHECK ((action = 'reclassify') = (label IS NOT NULL))
);
CREATE INDEX cell_reviews_cell ON cell_reviews(cell_id);

CREATE TRIGGER cell_reviews_are_append_only_update BEFORE UPDATE ON cell_reviews
BEGIN
    SELECT RAISE(ABORT, 'cell reviews are an append-only audit trail: add a new review instead');
END;
CREATE TRIGGER cell_reviews_are_append_only_delete BEFORE DELETE ON cell_reviews
WHEN OLD.session_id NOT IN (SELECT session_id FROM deleted_sessions)
BEGIN
    SELECT RAISE(ABORT, 'cell reviews are an append-only audit trail: they go with their session');
END;

CREATE TABLE tally_cells (
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    track_id INTEGER NOT NULL,
    label TEXT NOT NULL,
    p_blast REAL NOT NULL,
    slide_x REAL NOT NULL,
    slide_y REAL NOT NULL,
    sightings INTEGER NOT NULL,
    PRIMARY KEY (session_id, track_id)
);

CREATE TABLE model_activations (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    package_path TEXT NOT NULL,
    package_sha256 TEXT NOT NULL,
    previous_sha256 TEXT NOT NULL DEFAULT '',
    figures TEXT NOT NULL DEFAULT '{}',
    reviewer TEXT NOT NULL DEFAULT '',
    created_at REAL NOT NULL
);
CREATE TRIGGER model_activations_are_append_only_update BEFORE UPDATE ON model_activations
BEGIN
    SELECT RAISE(ABORT, 'model activations are an append-only audit trail');
END;
CREATE TRIGGER model_activations_are_append_only_delete BEFORE DELETE ON model_activations
BEGIN
    SELECT RAISE(ABORT, 'model activations are an append-only audit trail');
END;
"""

#: Ordered (version, SQL) pairs; append new ones, never edit a released one.
MIGRATIONS: tuple[tuple[int, str], ...] = ((1, _V1), (2, _V2), (3, _V3), (4, _V4))
SCHEMA_VERSION = MIGRATIONS[-1][0]


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, migrations: tuple[tuple[int, str], ...] = MIGRATIONS) -> int:
    """Bring the database up to the last migration's version; return the version reached.

    ``conn`` must be in autocommit mode (``isolation_level=None``): each step runs in its own
    explicit transaction together with its ``user_version`` bump, so a crash mid-migration
    leaves the previous version intact.
    """
    newest = migrations[-1][0]
    current = schema_version(conn)
    if current > newest:
        raise StoreError(
            f"The session store was created by a newer allscope (schema version {current}; "
            f"this allscope reads up to {newest}); update allscope to open it. "
            "Nothing was changed in the store."
        )
    for version, sql in migrations:
        if version <= current:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {int(version)}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        current = version
    return current


def _statements(sql: str) -> list[str]:
    """Split a script into statements (executescript would commit our transaction)."""
    code = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    statements, buffer = [], ""
    for piece in code.split(";"):
        buffer += piece + ";"
        if sqlite3.complete_statement(buffer):  # False inside a trigger body or a string
            if buffer.strip(" \n;"):
                statements.append(buffer.strip())
            buffer = ""
    return statements
