"""Reading and writing the interchange tables as Parquet or CSV, in batches, validated."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from carepath.analytics.schema import CONTACTS, TableSpec
from carepath.analytics.validation import Validation, Validator
from carepath.errors import InvalidInput

BATCH_ROWS = 256 * 1024
# Told the rows read so far and the total when it is known (Parquet) or None (CSV).
Progress = Callable[[int, int | None], None]
OnError = Literal["raise", "drop"]


def file_format(path: Path) -> Literal["parquet", "csv"]:
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix == ".csv":
        return "csv"
    raise InvalidInput(f"{path}: expected a .parquet or .csv file", field="path")


def count_rows(path: Path) -> int | None:
    """Rows in a Parquet file from its footer; None for CSV (it would take a full read)."""
    return pq.ParquetFile(path).metadata.num_rows if file_format(path) == "parquet" else None


def iter_raw(path: Path, batch_rows: int = BATCH_ROWS) -> Iterator[pa.RecordBatch]:
    """The file's batches as stored: CSV columns all as text, so bad values surface per row."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file", field="path")
    if file_format(path) == "parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=batch_rows)
        return
    with path.open(newline="", encoding="utf-8") as handle:
        header = next(csv.reader(handle), None)
    if not header:
        raise InvalidInput(f"{path}: the CSV file is empty; it needs a header row", field="path")
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=32 << 20),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in header},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    yield from reader


def iter_valid(
    path: Path,
    spec: TableSpec = CONTACTS,
    *,
    on_error: OnError = "raise",
    progress: Progress | None = None,
    report: Callable[[Validation], None] | None = None,
) -> Iterator[pa.Table]:
    """The file's rows in the spec's types, batch by batch.

    `raise`: any invalid row fails the whole input (after reading it all, so that the error lists
    every kind of problem). `drop`: invalid rows are left out and `report` gets the validation.
    A repeated key always fails: which of the two rows is right is not ours to guess.
    """
    validator = Validator(spec)
    total = count_rows(path)
    for batch in iter_raw(path):
        conformed, bad = validator.conform(batch)
        if on_error == "drop" or validator.report.ok:
            yield conformed.filter(pc.invert(bad)) if on_error == "drop" else conformed
        if progress is not None:
            progress(validator.report.rows, total)
    validation = validator.finish()
    repeated = spec.key is not None and any(
        error.reason == "appears more than once" for error in validation.errors
    )
    if on_error == "raise" or repeated:
        validation.raise_if_invalid()
    if report is not None:
        report(validation)


def read_table(
    path: Path,
    spec: TableSpec = CONTACTS,
    *,
    on_error: OnError = "raise",
    progress: Progress | None = None,
    report: Callable[[Validation], None] | None = None,
) -> pa.Table:
    """The whole file in memory, validated (see `iter_valid`)."""
    batches = list(iter_valid(path, spec, on_error=on_error, progress=progress, report=report))
    if not batches:
        return spec.schema.empty_table()
    return pa.concat_tables(batches)


def has_spec_types(path: Path, spec: TableSpec) -> bool:
    """Is this a Parquet file whose columns already have the spec's types?"""
    if file_format(path) != "parquet":
        return False
    stored = pq.read_schema(path)
    return all(
        name in stored.names and stored.field(name).type == spec.column(name).type
        for name in spec.names
    )


class TableWriter:
    """Writes batches of one spec's table to Parquet or CSV (by the file's suffix)."""

    def __init__(self, path: Path, spec: TableSpec = CONTACTS) -> None:
        self.path = path
        self.spec = spec
        self.format = file_format(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._parquet: pq.ParquetWriter | None = None
        self._csv: pacsv.CSVWriter | None = None
        self.rows = 0

    def write(self, table: pa.Table | pa.RecordBatch) -> None:
        data = table if isinstance(table, pa.Table) else pa.Table.from_batches([table])
        data = data.select(list(self.spec.names)).cast(self.spec.schema)
        if self.format == "parquet":
            if self._parquet is None:
                self._parquet = pq.ParquetWriter(self.path, self.spec.schema, compression="zstd")
            self._parquet.write_table(data)
        else:
            text = _as_csv_text(data)
            if self._csv is None:
                self._csv = pacsv.CSVWriter(self.path, text.schema)
            self._csv.write_table(text)
        self.rows += data.num_rows

    def close(self) -> None:
        if self._parquet is None and self._csv is None:
            self.write(self.spec.schema.empty_table())
        for writer in (self._parquet, self._csv):
            if writer is not None:
                writer.close()

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def write_table(table: pa.Table, path: Path, spec: TableSpec = CONTACTS) -> None:
    with TableWriter(path, spec) as writer:
        writer.write(table)


def _as_csv_text(table: pa.Table) -> pa.Table:
    # ISO 8601 with a T and a Z, so that any reader, not only Arrow's, takes it as UTC.
    columns = [
        pc.strftime(column, format="%Y-%m-%dT%H:%M:%SZ")
        if pa.types.is_timestamp(column.type)
        else column
        for column in table.columns
    ]
    return pa.Table.from_arrays(columns, names=table.column_names)


def prepare_parquet(
    path: Path, workdir: Path, spec: TableSpec = CONTACTS, *, progress: Progress | None = None
) -> Path:
    """A validated Parquet file of `path` in the spec's types: the file itself when it already is
    one (engines then read it in place, however large), else a converted copy in `workdir`."""
    if has_spec_types(path, spec):
        for _batch in iter_valid(path, spec, progress=progress):
            pass
        return path
    out = workdir / f"{spec.name}.parquet"
    with TableWriter(out, spec) as writer:
        for batch in iter_valid(path, spec, progress=progress):
            writer.write(batch)
    return out
