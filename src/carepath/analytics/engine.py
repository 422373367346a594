"""The engines the definitions run on: DuckDB by default, PySpark (local or a cluster) too."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa

from carepath.errors import ConfigurationError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@dataclass
class Engine:
    """An Ibis backend, and the Spark session behind it when it is Spark. Every session runs in
    UTC, so that days, weeks and months are cut the same way whatever the machine's zone."""

    backend: Any
    session: SparkSession | None = None

    @property
    def name(self) -> str:
        return str(self.backend.name)

    def table(self, source: Path | pa.Table, name: str, *, materialize: bool = False) -> ir.Table:
        """A Parquet file (read in place unless `materialize`) or an Arrow table, as `name`,
        with its timestamps as naive UTC (see `naive_utc`)."""
        if isinstance(source, Path):
            table = self.backend.read_parquet(source, table_name=f"{name}_file")
            if not materialize:
                return naive_utc(table)
            source_expr: Any = naive_utc(table)
        else:
            source_expr = source
        if self.session is not None:
            frame = (
                self.session.createDataFrame(source_expr)
                if isinstance(source_expr, pa.Table)
                else self.session.sql(self.backend.compile(source_expr))
            )
            if materialize:
                frame = frame.cache()
            frame.createOrReplaceTempView(name)
            return naive_utc(self.backend.table(name))
        return naive_utc(self.backend.create_table(name, source_expr, temp=True, overwrite=True))

    def close(self) -> None:
        self.backend.disconnect()


def naive_utc(table: ir.Table) -> ir.Table:
    """Zoned timestamps as naive UTC ones. The sessions run in UTC, so nothing shifts; and
    engines do interval arithmetic and truncation on naive timestamps without a time-zone
    library (DuckDB several times faster)."""
    zoned = {
        name: table[name].cast(dt.Timestamp(scale=dtype.scale))
        for name, dtype in table.schema().items()
        if dtype.is_timestamp() and dtype.timezone is not None
    }
    return table.mutate(**zoned) if zoned else table


def duckdb_engine(*, threads: int | None = None, memory_limit: str | None = None) -> Engine:
    backend = ibis.duckdb.connect()
    backend.raw_sql("SET TimeZone = 'UTC'")
    if threads is not None:
        backend.raw_sql(f"SET threads = {int(threads)}")
    if memory_limit is not None:
        quoted = memory_limit.replace("'", "")
        backend.raw_sql(f"SET memory_limit = '{quoted}'")
    return Engine(backend)


def spark_engine(session: SparkSession | None = None) -> Engine:
    """Spark through Ibis: the given session, or a local one (see `local_spark_session`)."""
    session = session or local_spark_session()
    return Engine(ibis.pyspark.connect(session), session)


def local_spark_session(
    master: str = "local[2]", *, shuffle_partitions: int = 4, warehouse: Path | None = None
) -> SparkSession:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ConfigurationError(
            "PySpark is not installed: pip install 'carepath[spark]' (it also needs Java 17+)"
        ) from exc
    builder: Any = SparkSession.builder
    builder = (
        builder.master(master)
        .appName("carepath-analytics")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.default.parallelism", str(shuffle_partitions))
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    if warehouse is not None:
        builder = builder.config("spark.sql.warehouse.dir", str(warehouse))
    session: SparkSession = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session
