"""Sessions on disk: SQLite (WAL) records plus lossless field images, crash-safe.

Public API: :class:`SessionStore`, :class:`SessionInfo`, the record types, and the errors.
"""

from allscope.core.store.errors import StoreCorruptError, StoreError
from allscope.core.store.records import (
    ReviewRecord,
    SavedField,
    SessionInfo,
    SessionRecord,
    SessionSummary,
)
from allscope.core.store.store import SessionStore, default_root

__all__ = [
    "SavedField", "ReviewRecord", "SessionInfo", "SessionRecord", "SessionStore", "SessionSummary",
    "StoreCorruptError", "StoreError", "default_root",
]
