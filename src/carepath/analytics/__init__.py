"""Analytics: metric and journey definitions written once in Ibis, run on DuckDB or Spark, over
the contacts and journey-events interchange tables (docs/subsystems/analytics.md)."""

from carepath.analytics.engine import Engine, duckdb_engine, local_spark_session, spark_engine
from carepath.analytics.facts import Windows, contact_facts
from carepath.analytics.journeys import Journeys, JourneySettings
from carepath.analytics.metrics import ServiceSettings
from carepath.analytics.schema import (
    CHANNELS,
    CONTACTS,
    DIGITAL_CHANNELS,
    HANDLERS,
    JOURNEY_EVENTS,
    ColumnSpec,
    TableSpec,
)
from carepath.analytics.sources import prepare_parquet, read_table, write_table
from carepath.analytics.strategy import TREATMENTS, Plan, plan_from_config
from carepath.analytics.suite import Metrics, MetricSettings, rows, run_suite
from carepath.analytics.validation import InvalidTable, RowError, Validation, validate_table

__all__ = [
    "CHANNELS",
    "CONTACTS",
    "DIGITAL_CHANNELS",
    "HANDLERS",
    "JOURNEY_EVENTS",
    "TREATMENTS",
    "ColumnSpec",
    "Engine",
    "InvalidTable",
    "JourneySettings",
    "Journeys",
    "MetricSettings",
    "Metrics",
    "Plan",
    "RowError",
    "ServiceSettings",
    "TableSpec",
    "Validation",
    "Windows",
    "contact_facts",
    "duckdb_engine",
    "local_spark_session",
    "plan_from_config",
    "prepare_parquet",
    "read_table",
    "rows",
    "run_suite",
    "spark_engine",
    "validate_table",
    "write_table",
]
