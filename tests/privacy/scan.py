"""Search every text and JSON column of every table (and the stored files) for strings: the
generic proof that some piece of personal data is stored nowhere."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import JSON, String, Text, cast, func, or_, select

from carepath.storage import Database
from carepath.storage.tables import metadata


def text_columns() -> list[tuple[str, str]]:
    """(table, column) of every column that can hold text: strings, text and JSON."""
    return [
        (table.name, column.name)
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text | JSON)
    ]


async def find(db: Database, needles: Iterable[str]) -> dict[str, int]:
    """`{"table.column": rows}` for each column holding any of `needles`, as a substring."""
    patterns = [f"%{needle}%" for needle in needles]
    found: dict[str, int] = {}
    async with db.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | Text | JSON):
                    continue
                as_text = cast(column, Text)
                query = (
                    select(func.count())
                    .select_from(table)
                    .where(or_(*(as_text.like(p) for p in patterns)))
                )
                rows = int((await conn.execute(query)).scalar_one())
                if rows:
                    found[f"{table.name}.{column.name}"] = rows
    return found


def find_in_files(root: Path, needles: Iterable[str]) -> list[str]:
    """The files under `root` whose bytes contain any of `needles`."""
    wanted = [needle.encode() for needle in needles]
    if not root.exists():
        return []
    return sorted(
        str(path)
        for path in root.rglob("*")
        if path.is_file() and any(needle in path.read_bytes() for needle in wanted)
    )
