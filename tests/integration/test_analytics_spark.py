"""The same metric and journey definitions on PySpark (local mode) and on DuckDB, over the same
generated data, give the same results.

Skipped, with the reason, when PySpark or Java is missing, unless CAREPATH_TEST_REQUIRE_SERVICES=1
(CI), where that fails the run instead.
"""

from __future__ import annotations

import importlib.util
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carepath.analytics.engine import Engine, duckdb_engine, local_spark_session, spark_engine
from carepath.analytics.generate import generate
from carepath.analytics.schema import JOURNEY_EVENTS
from carepath.analytics.sources import TableWriter
from carepath.analytics.suite import Row, run_suite
from tests.services import services_required

pytestmark = [
    pytest.mark.slow,
    # PySpark 4.0 warns about pandas 3 and leaves py4j sockets to the garbage collector.
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
    pytest.mark.filterwarnings("ignore:.*copy keyword is deprecated"),
    pytest.mark.filterwarnings("ignore:.*future.infer_string"),
]
PLAN = {
    ("order_status", "*"): "self_serve",
    ("billing_dispute", "chat"): "assisted",
    ("*", "voice"): "live",
    ("*", "*"): "assisted",
}


def _missing() -> str | None:
    if importlib.util.find_spec("pyspark") is None:
        return "PySpark is not installed: pip install -e '.[spark]'"
    if shutil.which("java") is None:
        return (
            "Java is not installed (PySpark needs Java 17+: apt-get install default-jre-headless)"
        )
    return None


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    reason = _missing()
    if reason is not None:
        if services_required():
            pytest.fail(reason)
        pytest.skip(reason)
    session = local_spark_session(
        "local[2]", shuffle_partitions=2, warehouse=tmp_path_factory.mktemp("spark-warehouse")
    )
    yield spark_engine(session)
    session.stop()


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("generated")
    contacts, events = folder / "contacts.parquet", folder / "events.parquet"
    with TableWriter(contacts) as contact_writer, TableWriter(events, JOURNEY_EVENTS) as writer:
        for contact_batch, event_batch in generate(400, 60, seed=9):
            contact_writer.write(contact_batch)
            writer.write(event_batch)
    return contacts, events


def _suite(engine: Engine, data: tuple[Path, Path]) -> dict[str, list[Row]]:
    contacts = engine.table(data[0], "contacts")
    events = engine.table(data[1], "journey_events")
    # Cached: Spark would otherwise recompute the follow-ups and the journeys for each query.
    return run_suite(
        contacts,
        events,
        plan=PLAN,
        journey_groups=(None, "intent"),
        cache=True,
    )


def _same(left: Any, right: Any) -> bool:
    # Means add up in a different order on each engine: equal to the last few bits.
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=1e-12, abs_tol=1e-12)
    return bool(left == right) and type(left) is type(right)


@pytest.mark.timeout(300)
def test_spark_gives_the_results_of_duckdb(spark: Engine, data: tuple[Path, Path]) -> None:
    # given the same generated contacts and journey events, as Parquet
    duckdb = duckdb_engine()

    # when the whole suite runs on both engines
    expected = _suite(duckdb, data)
    found = _suite(spark, data)

    # then every analysis has the same rows, in the same order, with the same values
    assert found.keys() == expected.keys()
    for name, rows in expected.items():
        assert rows, f"{name} is empty: the data does not exercise it"
        assert len(found[name]) == len(rows), name
        for mine, theirs in zip(found[name], rows, strict=True):
            assert mine.keys() == theirs.keys(), name
            differ = {k: (mine[k], theirs[k]) for k in mine if not _same(mine[k], theirs[k])}
            assert not differ, f"{name}: {differ}"
