"""The SQL an engine runs while a block runs, for tests that count round trips."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def executed(engine: AsyncEngine, containing: str = "") -> Iterator[list[str]]:
    """Each statement, whitespace folded and upper-cased; only those holding `containing`
    (in any letter case) when it is given."""
    wanted = containing.upper()
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        folded = " ".join(statement.split()).upper()
        if wanted in folded:
            seen.append(folded)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
