"""Writing and reading the interchange tables as Parquet and CSV."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from carepath.analytics.generate import generate
from carepath.analytics.schema import CONTACTS, JOURNEY_EVENTS
from carepath.analytics.sources import prepare_parquet, read_table, write_table
from carepath.errors import InvalidInput


@pytest.fixture(scope="module")
def sample() -> tuple[pa.Table, pa.Table]:
    contacts, events = next(iter(generate(200, 30, seed=5)))
    return contacts, events


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_table_survives_a_round_trip(
    tmp_path: Path, suffix: str, sample: tuple[pa.Table, pa.Table]
) -> None:
    contacts, events = sample
    write_table(contacts, tmp_path / f"contacts{suffix}")
    write_table(events, tmp_path / f"events{suffix}", JOURNEY_EVENTS)

    assert read_table(tmp_path / f"contacts{suffix}").equals(contacts)
    assert read_table(tmp_path / f"events{suffix}", JOURNEY_EVENTS).equals(events)


def test_csv_timestamps_are_iso_8601_utc(tmp_path: Path, sample: tuple[pa.Table, pa.Table]) -> None:
    write_table(sample[0].slice(0, 1), tmp_path / "one.csv")

    line = (tmp_path / "one.csv").read_text(encoding="utf-8").splitlines()[1]

    started_at = line.split(",")[3]
    assert started_at.startswith('"2024-01-')
    assert started_at.endswith('Z"')
    assert "T" in started_at


def test_parquet_in_the_spec_types_is_used_in_place(
    tmp_path: Path, sample: tuple[pa.Table, pa.Table]
) -> None:
    write_table(sample[0], tmp_path / "contacts.parquet")
    write_table(sample[0], tmp_path / "contacts.csv")

    in_place = prepare_parquet(tmp_path / "contacts.parquet", tmp_path / "work")
    (tmp_path / "work").mkdir()
    converted = prepare_parquet(tmp_path / "contacts.csv", tmp_path / "work")

    assert in_place == tmp_path / "contacts.parquet"
    assert converted.parent == tmp_path / "work"
    assert read_table(converted).equals(sample[0])


def test_other_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match=r"expected a \.parquet or \.csv file"):
        read_table(tmp_path / "contacts.xlsx")
    with pytest.raises(InvalidInput, match="no such file"):
        read_table(tmp_path / "missing.csv")


def test_an_empty_table_writes_a_header(tmp_path: Path) -> None:
    write_table(CONTACTS.schema.empty_table(), tmp_path / "empty.csv")

    assert read_table(tmp_path / "empty.csv").num_rows == 0
