"""Checking tables against the interchange specs, batch by batch, with row-numbered errors."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from carepath.analytics.schema import CONTACTS, ColumnSpec, TableSpec
from carepath.errors import InvalidInput

MAX_REPORTED = 100

_TYPE_HINTS = {
    "timestamp": "not a timestamp with a zone offset (ISO 8601, e.g. 2024-05-01T09:30:00Z)",
    "bool": "not true or false",
    "double": "not a number",
    "int32": "not a whole number",
    "string": "not text",
}


@dataclass(frozen=True)
class RowError:
    """What is wrong with one value; `row` counts data rows from 1 (a CSV's header is row 0)."""

    row: int
    column: str
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        shown = "" if self.value is None else f" (got {self.value!r})"
        return f"row {self.row}, {self.column}: {self.reason}{shown}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "reason": self.reason, "value": self.value}


@dataclass
class Validation:
    """The outcome: how many rows, the first `MAX_REPORTED` errors, and how many in all."""

    table: str
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    bad_rows: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def summary(self, shown: int = 20) -> str:
        lines = [
            f"{self.table}: {self.bad_rows} of {self.rows} rows are invalid "
            f"({self.error_count} errors)"
        ]
        lines += [f"  {error}" for error in sorted(self.errors, key=_order)[:shown]]
        if self.error_count > shown:
            lines.append(f"  … and {self.error_count - shown} more")
        return "\n".join(lines)

    def raise_if_invalid(self) -> None:
        if not self.ok:
            raise InvalidTable(self)


class InvalidTable(InvalidInput):
    """A table that does not match its spec; `data` carries the row-level errors."""

    code = "invalid_table"

    def __init__(self, validation: Validation) -> None:
        super().__init__(
            validation.summary(),
            table=validation.table,
            rows=validation.rows,
            bad_rows=validation.bad_rows,
            error_count=validation.error_count,
            errors=[error.as_dict() for error in sorted(validation.errors, key=_order)],
        )
        self.validation = validation


def _order(error: RowError) -> tuple[int, str]:
    return error.row, error.column


class Validator:
    """Conforms batches of one table to its spec, numbering rows across batches.

    Missing columns fail at once (nothing row-level makes sense then); extra columns are dropped.
    Values that cannot be read as their type become null and are reported, so a caller can either
    reject the input or drop the bad rows.
    """

    def __init__(self, spec: TableSpec, *, max_reported: int = MAX_REPORTED) -> None:
        self.spec = spec
        self.report = Validation(spec.name)
        self._max_reported = max_reported
        self._keys: list[pa.Array] = []
        self._bad: list[pa.Array] = []

    def conform(self, data: pa.Table | pa.RecordBatch) -> tuple[pa.Table, pa.Array]:
        """The batch in the spec's schema, and a mask of its invalid rows."""
        table = data if isinstance(data, pa.Table) else pa.Table.from_batches([data])
        missing = [name for name in self.spec.names if name not in table.column_names]
        if missing:
            raise InvalidInput(
                f"{self.spec.name}: missing columns {', '.join(missing)}; the table needs "
                f"{', '.join(self.spec.names)}",
                code="invalid_table",
                table=self.spec.name,
                missing_columns=missing,
            )
        offset = self.report.rows + 1
        bad = _none(table.num_rows)
        columns: dict[str, pa.Array] = {}
        for column in self.spec.columns:
            values, failed = _cast(_flat(table.column(column.name)), column.type)
            bad = self._flag(bad, failed, offset, column, table.column(column.name), hint=True)
            columns[column.name] = values
            for reason, mask in _value_checks(column, values):
                bad = self._flag(
                    bad, pc.and_not_kleene(mask, failed), offset, column, values, reason
                )
        for name, reason, mask in _row_checks(self.spec, columns):
            bad = self._flag(bad, mask, offset, self.spec.column(name), columns[name], reason)
        if self.spec.key is not None:
            self._keys.append(columns[self.spec.key])
        self.report.rows += table.num_rows
        self.report.bad_rows += pc.sum(bad).as_py() or 0
        self._bad.append(bad)
        return pa.Table.from_pydict(columns, schema=self.spec.schema), bad

    def finish(self) -> Validation:
        """Checks that need every row (a unique key), then the whole report."""
        if self.spec.key is not None and self._keys:
            keys = pa.chunked_array(self._keys, pa.string())
            counts = pc.value_counts(keys)
            repeated = counts.filter(pc.greater(counts.field("counts"), 1)).field("values")
            if len(repeated):
                mask = pc.fill_null(pc.is_in(keys, value_set=repeated), False)
                self._flag_repeated(mask.combine_chunks(), keys.combine_chunks())
        self._keys, self._bad = [], []
        return self.report

    def _flag(
        self,
        bad: pa.Array,
        mask: pa.Array,
        offset: int,
        column: ColumnSpec,
        values: pa.Array | pa.ChunkedArray,
        reason: str | None = None,
        *,
        hint: bool = False,
    ) -> pa.Array:
        mask = pc.fill_null(mask, False)
        count = pc.sum(mask).as_py() or 0
        if not count:
            return bad
        if hint:
            reason = _TYPE_HINTS.get(str(column.type).split("[")[0], f"not {column.type}")
        self.report.error_count += count
        room = self._max_reported - len(self.report.errors)
        for index in pc.indices_nonzero(mask).to_pylist()[: max(room, 0)]:
            raw = values[index].as_py()
            self.report.errors.append(
                RowError(offset + index, column.name, reason or "invalid", _show(raw))
            )
        return pc.or_kleene(bad, mask)

    def _flag_repeated(self, mask: pa.Array, keys: pa.Array) -> None:
        self.report.error_count += pc.sum(mask).as_py() or 0
        already = pa.chunked_array(self._bad, pa.bool_()).combine_chunks()
        self.report.bad_rows = pc.sum(pc.or_kleene(already, mask)).as_py() or 0
        room = self._max_reported - len(self.report.errors)
        for index in pc.indices_nonzero(mask).to_pylist()[: max(room, 0)]:
            key = keys[index].as_py()
            self.report.errors.append(
                RowError(index + 1, self.spec.key or "", "appears more than once", key)
            )


def validate_table(data: Any, spec: TableSpec = CONTACTS) -> tuple[pa.Table, Validation]:
    """An Arrow table or pandas DataFrame, conformed to `spec`, and its validation report."""
    table = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
    validator = Validator(spec)
    conformed, _bad = validator.conform(table)
    return conformed, validator.finish()


def _show(raw: object) -> str | None:
    return None if raw is None else str(raw)


def _flat(values: pa.ChunkedArray | pa.Array) -> pa.Array:
    array = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_dictionary(array.type):
        array = array.dictionary_decode()
    return array


def _none(rows: int) -> pa.Array:
    return pa.array(np.zeros(rows, dtype=bool))


def _cast(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, pa.Array]:
    """`values` as `target`, and a mask of the values that could not be read as it."""
    none = _none(len(values))
    if values.type == target:
        return values, none
    if pa.types.is_timestamp(values.type) and pa.types.is_timestamp(target):
        if values.type.tz is None:
            # A timestamp without a zone in Parquet has no other reading than the format's: UTC.
            values = pc.assume_timezone(values, "UTC")
        return values.cast(target), none
    if pa.types.is_null(values.type):
        return pa.nulls(len(values), target), none
    try:
        return pc.cast(values, target), none
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        pass
    flags = np.zeros(len(values), dtype=bool)
    flags[_failing(values, target, 0)] = True
    mask = pa.array(flags)
    kept = pc.if_else(mask, pa.nulls(len(values), values.type), values)
    return pc.cast(kept, target), mask


def _failing(values: pa.Array, target: pa.DataType, start: int) -> list[int]:
    # Bisect: the cast is vectorised, so a few bad values among millions cost log(n) casts each.
    try:
        pc.cast(values, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        if len(values) == 1:
            return [start]
        half = len(values) // 2
        return _failing(values.slice(0, half), target, start) + _failing(
            values.slice(half), target, start + half
        )
    return []


def _value_checks(column: ColumnSpec, values: pa.Array) -> Iterable[tuple[str, pa.Array]]:
    missing = pc.is_null(values)
    if pa.types.is_string(column.type):
        missing = pc.or_kleene(missing, pc.equal(pc.utf8_length(values), 0))
    if not column.nullable:
        yield "missing", missing
    if column.allowed:
        known = pc.is_in(values, value_set=pa.array(column.allowed))
        yield (
            f"must be one of {', '.join(column.allowed)}",
            pc.and_not_kleene(pc.invert(known), missing),
        )
    if column.scale is not None:
        low, high = column.scale
        outside = pc.or_kleene(pc.less(values, low), pc.greater(values, high))
        yield f"must be from {low} to {high}", outside
    if pa.types.is_floating(column.type):
        yield "must not be negative", pc.or_kleene(pc.less(values, 0), pc.is_nan(values))
    if column.name == "properties":
        looks_like_object = pc.match_substring_regex(values, r"(?s)^\s*\{.*\}\s*$")
        yield "must be a JSON object", pc.invert(looks_like_object)


def _row_checks(
    spec: TableSpec, columns: dict[str, pa.Array]
) -> Iterable[tuple[str, str, pa.Array]]:
    if spec.name != CONTACTS.name:
        return
    yield "ended_at", "before started_at", pc.less(columns["ended_at"], columns["started_at"])
    yield (
        "assistant_involved",
        "must be true when handled_by is assistant",
        pc.and_kleene(
            pc.equal(columns["handled_by"], "assistant"), pc.invert(columns["assistant_involved"])
        ),
    )
