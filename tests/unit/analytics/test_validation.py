"""The contacts table as an interchange format: types, allowed values and row-level errors."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from carepath.analytics.schema import CONTACTS, JOURNEY_EVENTS
from carepath.analytics.sources import read_table
from carepath.analytics.validation import InvalidTable, Validation, validate_table
from carepath.errors import InvalidInput

HEADER = ",".join(CONTACTS.names)
GOOD = (
    "c1,u1,,2024-01-01T09:00:00Z,2024-01-01T09:05:00+00:00,voice,agent,false,,,true,false,"
    "12.5,300,5,9,2"
)


def write(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "contacts.csv"
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return path


def test_a_good_csv_reads_into_the_spec_types(tmp_path: Path) -> None:
    # given one row with an offset other than Z
    path = write(tmp_path, GOOD, GOOD.replace("c1", "c2").replace("09:00:00Z", "11:00:00+02:00"))

    table = read_table(path)

    assert table.schema == CONTACTS.schema
    first, second = table.to_pylist()
    assert first["started_at"] == datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert second["started_at"] == datetime(2024, 1, 1, 9, tzinfo=UTC)  # 11:00+02:00 in UTC
    assert (first["case_id"], first["intent"], first["wait_s"], first["csat"]) == (
        None,
        None,
        12.5,
        5,
    )


def test_every_bad_value_is_reported_with_its_row(tmp_path: Path) -> None:
    # given a file where each row but the first breaks one rule
    path = write(
        tmp_path,
        GOOD,
        GOOD.replace("c1,", "c2,").replace("2024-01-01T09:00:00Z", "2024-13-01T09:00:00Z"),
        GOOD.replace("c1,", "c3,").replace("2024-01-01T09:00:00Z", "2024-01-01T09:00:00"),
        GOOD.replace("c1,", "c4,").replace("voice", "fax"),
        GOOD.replace("c1,", "c5,").replace(",5,9,2", ",7,9,2"),
        GOOD.replace("c1,", "c6,").replace("12.5", "-1"),
        GOOD.replace("c1,", "c7,").replace("agent", "assistant"),
        GOOD.replace("c1,", "c8,").replace("09:05:00+00:00", "08:00:00+00:00"),
        GOOD.replace("c1,u1", "c9,"),
        GOOD.replace("c1,", "c10,").replace("false,,,true", "maybe,,,true"),
        GOOD,
    )

    # when it is read
    with pytest.raises(InvalidTable) as raised:
        read_table(path)

    # then every problem is named with its data row (the header is row 0)
    found = {(e["row"], e["column"], e["reason"]) for e in raised.value.data["errors"]}
    timestamp = "not a timestamp with a zone offset (ISO 8601, e.g. 2024-05-01T09:30:00Z)"
    assert found == {
        (2, "started_at", timestamp),
        (3, "started_at", timestamp),
        (4, "channel", "must be one of web, app, chat, email, sms, whatsapp, social, voice"),
        (5, "csat", "must be from 1 to 5"),
        (6, "wait_s", "must not be negative"),
        (7, "assistant_involved", "must be true when handled_by is assistant"),
        (8, "ended_at", "before started_at"),
        (9, "customer_id", "missing"),
        (10, "assistant_involved", "not true or false"),
        (1, "contact_id", "appears more than once"),
        (11, "contact_id", "appears more than once"),
    }
    assert raised.value.data["bad_rows"] == 11
    assert "row 2, started_at" in raised.value.message
    assert "'2024-13-01T09:00:00Z'" in raised.value.message


def test_bad_rows_can_be_dropped_instead(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD, GOOD.replace("c1,", "c2,").replace("voice", "fax"))
    reports: list[Validation] = []

    table = read_table(path, on_error="drop", report=reports.append)

    assert table.column("contact_id").to_pylist() == ["c1"]
    assert (reports[0].rows, reports[0].bad_rows) == (2, 1)


def test_missing_columns_fail_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "c1,u1", header="contact_id,customer_id")

    with pytest.raises(InvalidInput) as raised:
        read_table(path)

    assert raised.value.data["missing_columns"][:2] == ["case_id", "started_at"]


def test_parquet_without_zones_is_read_as_utc_and_extra_columns_are_dropped(
    tmp_path: Path,
) -> None:
    # given a Parquet file from another system: naive timestamps, whole-number waits, an extra
    # column and dictionary-encoded channels
    row: dict[str, object] = dict.fromkeys(CONTACTS.names)
    row.update(
        contact_id="c1",
        customer_id="u1",
        started_at=datetime(2024, 1, 1, 9),
        channel="chat",
        handled_by="agent",
        assistant_involved=False,
        abandoned=False,
        wait_s=12,
        note="extra",
    )
    table = pa.Table.from_pylist([row])
    table = table.set_column(
        table.schema.get_field_index("channel"), "channel", table["channel"].dictionary_encode()
    )
    path = tmp_path / "other.parquet"
    pq.write_table(table, path)

    found = read_table(path)

    assert found.schema == CONTACTS.schema
    assert found.to_pylist()[0]["started_at"] == datetime(2024, 1, 1, 9, tzinfo=UTC)
    assert found.to_pylist()[0]["wait_s"] == 12.0


def test_a_pandas_frame_is_validated_too() -> None:
    frame = pd.DataFrame(
        {
            **{name: [None] for name in CONTACTS.names},
            "contact_id": ["c1"],
            "customer_id": ["u1"],
            "started_at": [pd.Timestamp("2024-01-01T09:00", tz="UTC")],
            "channel": ["email"],
            "handled_by": ["nobody"],
            "assistant_involved": [False],
            "abandoned": [False],
        }
    )

    _, report = validate_table(frame)

    assert [(e.row, e.column) for e in report.errors] == [(1, "handled_by")]


def test_journey_events_need_a_json_object_for_properties() -> None:
    rows = [
        {
            "customer_id": "u1",
            "ts": datetime(2024, 1, 1, tzinfo=UTC),
            "channel": "web",
            "type": "page_view",
            "name": "home",
            "properties": properties,
            "case_id": None,
            "contact_id": None,
        }
        for properties in ('{"path": "/"}', None, "[1, 2]")
    ]

    _, report = validate_table(pa.Table.from_pylist(rows), JOURNEY_EVENTS)

    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (3, "properties", "must be a JSON object")
    ]
