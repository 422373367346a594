"""Database errors that mean "another transaction won a race; run this one again"."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

# PostgreSQL's SQLSTATEs for a deadlock victim and a serialization failure: the statement (and
# the transaction or savepoint it ran in) was undone, so nothing of it was written.
TRANSIENT_SQLSTATES = frozenset({"40P01", "40001"})


def is_transient_conflict(exc: BaseException) -> bool:
    """True for a deadlock victim or a serialization failure (PostgreSQL). SQLite has neither:
    its writers queue for the one write lock (storage/database.py)."""
    return (
        isinstance(exc, DBAPIError) and getattr(exc.orig, "sqlstate", None) in TRANSIENT_SQLSTATES
    )
