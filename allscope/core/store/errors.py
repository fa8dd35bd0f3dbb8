"""Errors of the session store, each with a message a user can act on."""

from __future__ import annotations

from pathlib import Path


class StoreError(RuntimeError):
    """The session store cannot do what was asked; the message says why and what to do."""


class StoreCorruptError(StoreError):
    """The database file is damaged. ``SessionStore.quarantine(root)`` moves it aside."""

    def __init__(self, message: str, db_path: Path) -> None:
        super().__init__(message)
        self.db_path = db_path


class StoreReadOnlyError(StoreError):
    """The database is sound but cannot be written (permissions, a read-only disk): not damage.
    Quarantining it would not help; the message says what to check."""
