"""The interchange tables of analytics, contacts and journey events: columns, types, meaning."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

CHANNELS = ("web", "app", "chat", "email", "sms", "whatsapp", "social", "voice")
DIGITAL_CHANNELS = tuple(channel for channel in CHANNELS if channel != "voice")
HANDLERS = ("self_service", "assistant", "agent")
TIMESTAMP = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class ColumnSpec:
    """One column: its Arrow type, whether it may be null, what it means and what it may hold."""

    name: str
    type: pa.DataType
    nullable: bool
    meaning: str = ""
    allowed: tuple[str, ...] = ()
    scale: tuple[int, int] | None = None

    @property
    def field(self) -> pa.Field:
        return pa.field(self.name, self.type, nullable=self.nullable)


@dataclass(frozen=True)
class TableSpec:
    """A documented table: its columns in order and the column that must be unique, if any."""

    name: str
    columns: tuple[ColumnSpec, ...]
    key: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([column.field for column in self.columns])

    def column(self, name: str) -> ColumnSpec:
        return next(column for column in self.columns if column.name == name)


CONTACTS = TableSpec(
    "contacts",
    (
        ColumnSpec("contact_id", pa.string(), False, "unique"),
        ColumnSpec(
            "customer_id", pa.string(), False, "the customer (merged customers: the live one)"
        ),
        ColumnSpec("case_id", pa.string(), True, "the case the contact belongs to"),
        ColumnSpec("started_at", TIMESTAMP, False, "UTC; ISO 8601 with a zone offset in CSV"),
        ColumnSpec("ended_at", TIMESTAMP, True, "UTC; not before started_at"),
        ColumnSpec("channel", pa.string(), False, "where the contact happened", CHANNELS),
        ColumnSpec("handled_by", pa.string(), False, "the last handler", HANDLERS),
        ColumnSpec("assistant_involved", pa.bool_(), False, "the assistant took part"),
        ColumnSpec("intent", pa.string(), True, "what the customer wanted"),
        ColumnSpec("segment", pa.string(), True, "the customer's segment"),
        ColumnSpec("resolved", pa.bool_(), True, "outcome recorded at the end of the contact"),
        ColumnSpec("abandoned", pa.bool_(), False, "left the queue before being served"),
        ColumnSpec(
            "wait_s", pa.float64(), True, "time in queue before an agent (null: never queued)"
        ),
        ColumnSpec("handle_s", pa.float64(), True, "agent handle time"),
        ColumnSpec("csat", pa.int32(), True, "survey: 1-5", scale=(1, 5)),
        ColumnSpec("nps", pa.int32(), True, "survey: 0-10", scale=(0, 10)),
        ColumnSpec("ces", pa.int32(), True, "survey: 1-5", scale=(1, 5)),
    ),
    key="contact_id",
)

JOURNEY_EVENTS = TableSpec(
    "journey_events",
    (
        ColumnSpec("customer_id", pa.string(), False, "the customer"),
        ColumnSpec("ts", TIMESTAMP, False, "when it happened, UTC"),
        ColumnSpec("channel", pa.string(), False, "the touchpoint's channel", CHANNELS),
        ColumnSpec("type", pa.string(), False, "page_view, article_view, app_step, …"),
        ColumnSpec("name", pa.string(), False, "what exactly, e.g. return_started"),
        ColumnSpec("properties", pa.string(), True, "a JSON object, as text"),
        ColumnSpec("case_id", pa.string(), True, "the case it belongs to, if any"),
        ColumnSpec("contact_id", pa.string(), True, "the contact it belongs to, if any"),
    ),
)
