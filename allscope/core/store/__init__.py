"""Sessions on disk: SQLite (WAL) records plus lossless field images, crash-safe.

Public API: :class:`SessionStore`, :class:`SessionInfo`, the record types, and the errors.
"""

from allscope.core.store.errors import StoreCorruptError, StoreError, StoreReadOnlyError
from allscope.core.store.records import (
    PolicyChange,
    ReviewRecord,
    SavedField,
    SessionInfo,
    SessionRecord,
    SessionSummary,
    Signature,
)
from allscope.core.store.store import SessionStore, default_root

__all__ = [
    "PolicyChange", "ReviewRecord", "SavedField", "SessionInfo", "SessionRecord", "SessionStore",
    "SessionSummary", "Signature", "StoreCorruptError", "StoreError", "StoreReadOnlyError",
    "default_root",
]
