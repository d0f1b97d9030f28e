"""The errors of the storage layer.

    StorageError
    ├── UnsupportedDatabaseError (ValueError)   a database URL of a kind we do not run on
    ├── DatabaseBehindError                     the schema is older than the code: run the migrations
    ├── ConflictError                           someone else saved first (optimistic concurrency)
    │   └── HandledElsewhereError               someone else handled the event first
    └── NotFoundError (KeyError)                no such record

Errors of the database drivers are not wrapped: a broken connection is not a storage decision.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "DatabaseBehindError",
    "HandledElsewhereError",
    "NotFoundError",
    "StorageError",
    "UnsupportedDatabaseError",
]


class StorageError(Exception):
    """The root of every error the storage layer raises on purpose."""


class UnsupportedDatabaseError(StorageError, ValueError):
    """The database URL names a database or driver threadcrew does not support."""


class DatabaseBehindError(StorageError):
    """The database schema is older than this code; the message names the command to run."""


class ConflictError(StorageError):
    """A write lost a race: the record changed since it was read."""


class HandledElsewhereError(ConflictError):
    """A save meant to take events out of the inbox found one of them gone: it was handled already."""


class NotFoundError(StorageError, KeyError):
    """No record has that id."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "not found"
