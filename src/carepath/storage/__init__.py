"""Persistence: tables, the unit of work, repositories and migrations (SQLite and PostgreSQL)."""

from carepath.storage.database import Database
from carepath.storage.unit_of_work import UnitOfWork

__all__ = ["Database", "UnitOfWork"]
