"""One DuckDB engine per test module: cheap, in memory, and the default engine of analytics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from carepath.analytics.engine import Engine, duckdb_engine


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    found = duckdb_engine(threads=2)
    yield found
    found.close()
