"""Rows behind a session's sign-off and its flag-policy history (see ``SessionStore``).

Signatures are append-only, like reviews: a report's sign-off is evidence. A session is signed
only once it has ended and every flagged field carries a decision, so a signed report never
hides an unreviewed flag.
"""

from __future__ import annotations

import json
import sqlite3

from allscope.core.store import records as rec
from allscope.core.store.errors import StoreError


def unreviewed_flags(conn: sqlite3.Connection, session_id: int) -> int:
    """Flagged fields of the session whose latest review has no accept/dismiss decision."""
    row = conn.execute(
        "SELECT count(*) FROM fields f WHERE f.session_id = ? AND f.kind = 'flag' AND coalesce(("
        "SELECT decision FROM reviews r WHERE r.field_id = f.id ORDER BY r.id DESC LIMIT 1), '') "
        "= ''",
        (session_id,),
    ).fetchone()
    return int(row[0])


def insert_signature(
    conn: sqlite3.Connection, session: rec.SessionRecord, role: str, name: str, now: float
) -> rec.Signature:
    if role not in rec.SIGNATURE_ROLES:
        raise ValueError(f"A signature's role is 'reviewed' or 'verified', not {role!r}.")
    if not name.strip():
        raise StoreError("A signature needs the signer's name; type it and sign again.")
    if session.ended_at is None:
        raise StoreError(
            f"Session {session.id} is still running; end it before signing its report."
        )
    left = unreviewed_flags(conn, session.id)
    if left:
        raise StoreError(
            f"Session {session.id} has {left} flagged field(s) without an accept or dismiss "
            "decision; review them before signing."
        )
    cur = conn.execute(
        "INSERT INTO signatures (session_id, role, name, created_at) VALUES (?, ?, ?, ?)",
        (session.id, role, name.strip(), now),
    )
    return rec.Signature(int(cur.lastrowid or 0), session.id, role, name.strip(), now)


def select_signatures(conn: sqlite3.Connection, session_id: int) -> list[rec.Signature]:
    rows = conn.execute(
        "SELECT * FROM signatures WHERE session_id = ? ORDER BY id", (session_id,)
    ).fetchall()
    return [
        rec.Signature(r["id"], r["session_id"], r["role"], r["name"], r["created_at"]) for r in rows
    ]


def insert_policy(
    conn: sqlite3.Connection,
    session_id: int,
    at: float,
    threshold: float | None,
    policy: dict[str, object],
) -> rec.PolicyChange:
    conn.execute(
        "INSERT INTO policy_changes (session_id, changed_at, threshold, flag_policy) "
        "VALUES (?, ?, ?, ?)",
        (session_id, at, threshold, json.dumps(policy, ensure_ascii=False, default=str)),
    )
    return rec.PolicyChange(session_id, at, threshold, dict(policy))


def select_policies(conn: sqlite3.Connection, session: rec.SessionRecord) -> list[rec.PolicyChange]:
    """The policies in force, oldest first; a session older than this table gets its start one."""
    rows = conn.execute(
        "SELECT * FROM policy_changes WHERE session_id = ? ORDER BY changed_at, id", (session.id,)
    ).fetchall()
    changes = [
        rec.PolicyChange(
            session.id, r["changed_at"], r["threshold"], json.loads(r["flag_policy"] or "{}")
        )
        for r in rows
    ]
    if not changes or changes[0].changed_at > session.started_at:
        changes.insert(
            0,
            rec.PolicyChange(
                session.id,
                session.started_at,
                session.info.threshold,
                dict(session.info.flag_policy),
            ),
        )
    return changes


def policy_at(changes: list[rec.PolicyChange], when: float) -> rec.PolicyChange:
    """The policy in force at ``when`` (the first one for anything earlier)."""
    current = changes[0]
    for change in changes:
        if change.changed_at <= when:
            current = change
    return current
