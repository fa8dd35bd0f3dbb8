"""Sessions on disk: SQLite (WAL) records plus lossless field images, crash-safe.

Public API: :class:`SessionStore`, :class:`SessionInfo`, the record types, and the errors.
Saved cells, their review trail and the tally: see ``allscope.core.store.cells``.
"""

from allscope.core.store.cells import ActivationRecord, CellRecord, CellReviewRecord
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
    "ActivationRecord", "CellRecord", "CellReviewRecord", "PolicyChange", "ReviewRecord",
    "SavedField", "SessionInfo", "SessionRecord", "SessionStore", "SessionSummary", "Signature",
    "StoreCorruptError", "StoreError", "StoreReadOnlyError", "default_root",
]
