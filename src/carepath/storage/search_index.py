"""The full-text index over articles lives outside the models (FTS5 tables, an expression index):
this tells Alembic's comparison which database objects are the index, so it leaves them alone."""

from __future__ import annotations

from alembic.runtime.environment import NameFilterParentNames, NameFilterType

# The SQLite FTS5 table, its shadow tables (article_search_data, _idx, _content, _docsize,
# _config), and the PostgreSQL GIN expression index; all made by migration 0011.
SQLITE_TABLE = "article_search"
POSTGRES_INDEX = "ix_articles_search"


def include_name(name: str | None, type_: NameFilterType, _parents: NameFilterParentNames) -> bool:
    """Alembic `include_name` hook: False for the search index's own objects."""
    if name is None:
        return True
    if type_ == "table":
        return name != SQLITE_TABLE and not name.startswith(f"{SQLITE_TABLE}_")
    if type_ == "index":
        return name != POSTGRES_INDEX
    return True
