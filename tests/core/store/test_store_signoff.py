"""A session's sign-off and its flag-policy history in the store: a signature needs an ended
session, a name and a decision on every flag; policies are kept per time of change."""

from __future__ import annotations

import pytest
from store_helpers import field_image, field_result, flag_for, session_info

from allscope.core.store import SessionStore, StoreError
from allscope.core.store.signoff import policy_at


@pytest.fixture()
def store(tmp_path):
    with SessionStore(tmp_path / "store") as opened:
        yield opened


def ended_session_with_a_flag(store: SessionStore) -> tuple[int, int]:
    sid = store.create_session(session_info())
    result = field_result(1, 0.9)
    field = store.add_field(sid, "flag", *field_image(1), result, flag_for(result))
    store.end_session(sid)
    return sid, field.id


def test_a_signature_role_is_reviewed_or_verified(store):
    sid = store.create_session(session_info())
    store.end_session(sid)
    with pytest.raises(ValueError, match="'reviewed' or 'verified', not 'approved'"):
        store.sign(sid, "approved", "Dr. A")
    assert store.signatures(sid) == []


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_a_signature_needs_the_signers_name(store, name):
    sid = store.create_session(session_info())
    store.end_session(sid)
    with pytest.raises(StoreError, match="needs the signer's name"):
        store.sign(sid, "reviewed", name)
    assert store.signatures(sid) == []


def test_a_running_session_cannot_be_signed(store):
    sid = store.create_session(session_info())
    with pytest.raises(StoreError, match=f"Session {sid} is still running; end it before signing"):
        store.sign(sid, "reviewed", "Dr. A")
    store.end_session(sid)
    assert store.sign(sid, "reviewed", "Dr. A").name == "Dr. A"


def test_a_review_without_a_decision_leaves_the_flag_unreviewed(store):
    sid, field_id = ended_session_with_a_flag(store)
    store.review(field_id, "accept", "blast-like", "Dr. A")
    assert store.unreviewed_flags(sid) == 0
    store.review(field_id, None, "undecided again", "Dr. A")  # the latest review counts
    assert store.unreviewed_flags(sid) == 1
    with pytest.raises(StoreError, match="1 flagged field\\(s\\) without an accept or dismiss"):
        store.sign(sid, "reviewed", "Dr. A")


def test_manual_captures_need_no_decision_before_signing(store):
    sid = store.create_session(session_info())
    result = field_result(2, 0.2)
    store.add_field(sid, "manual", *field_image(2), result)
    store.end_session(sid)
    assert store.unreviewed_flags(sid) == 0
    assert store.sign(sid, "reviewed", "Dr. A").role == "reviewed"


def test_signatures_are_appended_in_order_with_the_name_trimmed(store):
    sid, field_id = ended_session_with_a_flag(store)
    store.review(field_id, "dismiss", "artefact", "Dr. A")
    first = store.sign(sid, "reviewed", "  Dr. Ahmadi ")
    second = store.sign(sid, "verified", "Dr. Li")
    assert first.name == "Dr. Ahmadi" and first.session_id == sid
    assert second.id > first.id
    assert [(s.role, s.name) for s in store.signatures(sid)] == [
        ("reviewed", "Dr. Ahmadi"),
        ("verified", "Dr. Li"),
    ]


def test_policy_history_starts_with_the_sessions_own_policy(store):
    sid = store.create_session(session_info(threshold=0.7), started_at=100.0)
    store.record_policy(sid, 0.8, {"threshold": 0.8, "consecutive": 3}, at=160.0)
    changes = store.policies(sid)
    assert [(c.changed_at, c.threshold) for c in changes] == [(100.0, 0.7), (160.0, 0.8)]
    assert changes[1].flag_policy == {"threshold": 0.8, "consecutive": 3}
    assert policy_at(changes, 50.0) is changes[0]  # before the start: the first policy
    assert policy_at(changes, 159.9) is changes[0]
    assert policy_at(changes, 160.0) is changes[1]
    assert policy_at(changes, 1e9) is changes[1]


def test_a_session_recorded_before_policy_history_gets_its_start_policy(store):
    """Stores written before the policy table hold no row for a session's start policy; the
    session's own threshold and policy stand for it."""
    sid = store.create_session(
        session_info(threshold=0.6, flag_policy={"threshold": 0.6}), started_at=10.0
    )
    with store._lock:
        store._db.execute("DELETE FROM policy_changes WHERE session_id = ?", (sid,))
    assert [(c.changed_at, c.threshold, c.flag_policy) for c in store.policies(sid)] == [
        (10.0, 0.6, {"threshold": 0.6})
    ]
    store.record_policy(sid, 0.9, {"threshold": 0.9}, at=20.0)
    assert [(c.changed_at, c.threshold) for c in store.policies(sid)] == [(10.0, 0.6), (20.0, 0.9)]


def test_a_policy_for_an_unknown_session_is_refused(store):
    with pytest.raises(StoreError):
        store.record_policy(999, 0.5, {"threshold": 0.5})
