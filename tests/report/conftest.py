"""Fixtures for report tests: a real session store holding a small, multilingual session."""

from __future__ import annotations

import pytest
from report_helpers import ACCENTED, CHINESE, LONG_COMMENT, PERSIAN
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.core.store import SessionStore


@pytest.fixture
def store(tmp_path):
    with SessionStore(tmp_path / "store") as s:
        yield s


@pytest.fixture
def session_id(store):
    """Three saved fields (two flagged, one captured), 12 results, reviews incl. a 100k comment."""
    sid = store.create_session(
        session_info(
            patient_id=f"{PERSIAN} {CHINESE}", operator=ACCENTED, lab_name="Haematology Lab"
        ),
        started_at=1_700_000_000.0,
    )
    store.record_results(
        sid,
        [field_result(i, 0.2 + 0.06 * i, ("Benign", "Pre-B", "Pro-B")[i % 3]) for i in range(12)],
    )
    fields = []
    for i, kind in enumerate(("flag", "flag", "manual")):
        result = field_result(i, 0.9)
        fields.append(
            store.add_field(sid, kind, *field_image(i, 240, 320), result, flag_for(result))
        )
    store.review(fields[0].id, "accept", f"Blasts seen — {PERSIAN}", "Dr. Ahmadi")
    store.review(fields[1].id, "dismiss", LONG_COMMENT, "Dr. Li")
    store.end_session(sid, ended_at=1_700_000_900.0)
    return sid

