"""Turning a batch of another system's export into contacts-table rows, by a mapping: each value
read, mapped and typed, and every value that cannot be read reported with its source row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pyarrow as pa

from carepath.analytics.schema import CONTACTS, ColumnSpec
from carepath.analytics.validation import RowError
from carepath.assessment.mapping import UNIT_SECONDS, Mapping
from carepath.assessment.times import TimeReader

_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}
_ANY, _NONE = "*", ""


@dataclass
class Converted:
    """Contacts columns for a batch of source rows; `bad[i]` marks a row with an unreadable
    value, which `errors` explains (rows counted in the source, from 1 after the header)."""

    rows: int
    first_row: int
    columns: dict[str, list[Any]] = field(default_factory=dict)
    bad: list[bool] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    keep: list[bool] | None = None  # False: left out by a rule of the format (not an error)

    def __post_init__(self) -> None:
        self.bad = [False] * self.rows

    def fail(self, index: int, column: str, reason: str, value: Any) -> None:
        self.bad[index] = True
        shown = None if value is None else str(value)
        self.errors.append(RowError(self.first_row + index, column, reason, shown))

    def good(self) -> tuple[pa.Table, list[int]]:
        """The readable rows kept by the format, typed, and their source row numbers."""
        kept = [
            i for i in range(self.rows) if not self.bad[i] and (self.keep is None or self.keep[i])
        ]
        data = {name: [self.columns[name][i] for i in kept] for name in CONTACTS.names}
        table = pa.Table.from_pydict(data, schema=CONTACTS.schema)
        return table, [self.first_row + i for i in kept]


def texts(column: pa.ChunkedArray | pa.Array, missing: Sequence[str] = ()) -> list[str | None]:
    """A source column as texts; empty or listed values are None."""
    values = column.cast(pa.string()).to_pylist()
    absent = {"", *missing}
    return [None if v is None or v.strip() in absent else v for v in values]


def convert(mapping: Mapping, table: pa.Table, first_row: int) -> Converted:
    """Every contacts column of the batch, as the mapping says (docs/assessment.md)."""
    out = Converted(table.num_rows, first_row)
    source = {
        name: texts(table.column(name), mapping.missing.get(name, ()))
        for name in mapping.source_columns()
    }
    for spec in CONTACTS.columns:
        out.columns[spec.name] = _column(mapping, spec, source, out)
    if "assistant_involved" not in _sourced(mapping):
        out.columns["assistant_involved"] = [h == "assistant" for h in out.columns["handled_by"]]
    if mapping.wait_channels is not None:
        queued = set(mapping.wait_channels)
        out.columns["wait_s"] = [
            wait if channel in queued else None
            for wait, channel in zip(out.columns["wait_s"], out.columns["channel"], strict=True)
        ]
    return out


def _sourced(mapping: Mapping) -> set[str]:
    return set(mapping.columns) | set(mapping.constants) | set(mapping.intervals)


def _column(
    mapping: Mapping, spec: ColumnSpec, source: dict[str, list[str | None]], out: Converted
) -> list[Any]:
    name = spec.name
    if name in mapping.intervals:
        return _interval(mapping, name, source, out)
    raw: list[Any]
    if name in mapping.columns:
        raw = list(source[mapping.columns[name]])
    elif name in mapping.constants:
        raw = [mapping.constants[name]] * out.rows
    elif name == "abandoned":
        raw = [False] * out.rows  # an export that says nothing of abandonment has none
    else:
        raw = [None] * out.rows
    if name in mapping.first_of:
        separator = mapping.first_of[name]
        raw = [_first(value, separator) for value in raw]
    if name in mapping.values:
        table = mapping.values[name]
        raw = [_mapped(value, table) for value in raw]
    read = _reader(mapping, spec)
    typed: list[Any] = []
    for index, value in enumerate(raw):
        if value is None:
            typed.append(None)
            continue
        result = read(value)
        if isinstance(result, _Refused):
            out.fail(index, name, result.reason, value)
            typed.append(None)
        else:
            typed.append(result)
    return typed


def _interval(
    mapping: Mapping, name: str, source: dict[str, list[str | None]], out: Converted
) -> list[float | None]:
    interval = mapping.intervals[name]
    readers = [
        TimeReader(mapping.time_format_of(column), mapping.timezone)
        for column in (interval.start, interval.end)
    ]
    found: list[float | None] = []
    for index, (start, end) in enumerate(
        zip(source[interval.start], source[interval.end], strict=True)
    ):
        if start is None or end is None:
            found.append(None)
            continue
        moments = [reader.read(text) for reader, text in zip(readers, (start, end), strict=True)]
        if not all(isinstance(moment, datetime) for moment in moments):
            problem = next(m for m in moments if isinstance(m, str))
            out.fail(
                index, name, f"{interval.start} → {interval.end}: {problem}", f"{start} → {end}"
            )
            found.append(None)
            continue
        first, last = moments
        assert isinstance(first, datetime)
        assert isinstance(last, datetime)
        found.append((last - first).total_seconds())
    return found


class _Refused:
    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


def _reader(mapping: Mapping, spec: ColumnSpec) -> Callable[[Any], Any]:
    kind = spec.type
    if pa.types.is_timestamp(kind):
        source = mapping.columns.get(spec.name, "")
        times = TimeReader(mapping.time_format_of(source), mapping.timezone)

        def read_time(value: Any) -> Any:
            found = times.read(str(value))
            return _Refused(found) if isinstance(found, str) else found

        return read_time
    if pa.types.is_boolean(kind):
        return _read_bool
    if pa.types.is_floating(kind):
        scale = UNIT_SECONDS[mapping.units.get(spec.name, "seconds")]
        return lambda value: _read_number(value, float, scale)
    if pa.types.is_integer(kind):
        return lambda value: _read_number(value, _whole, 1)
    return lambda value: str(value).strip()


def _read_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return _Refused("not true or false")


def _whole(value: float) -> int:
    if not float(value).is_integer():
        raise ValueError(value)
    return int(value)


def _read_number(value: Any, kind: Callable[[float], Any], scale: float) -> Any:
    try:
        number = float(str(value).strip())
        return kind(number * scale) if scale != 1 else kind(number)
    except (ValueError, OverflowError):
        return _Refused("not a number" if kind is float else "not a whole number")


def _first(value: Any, separator: str) -> Any:
    if not isinstance(value, str):
        return value
    # Lists also come as JSON text (["billing", "vip"]): brackets and quotes are not the label.
    items = [item.strip(" []\"'") for item in value.split(separator)]
    return next((item for item in items if item), None)


def _mapped(value: Any, table: dict[str, Any]) -> Any:
    key = _NONE if value is None else str(value).strip().lower()
    if key in table:
        return table[key]
    if value is not None and _ANY in table:
        return table[_ANY]
    return value
