"""Reading the assessment's inputs: each file's format (given or detected from its header),
converted to the contacts table and checked by the analytics validator. Bad rows are left out
and reported with their file, row and reason; the run fails only when nothing usable is left."""

from __future__ import annotations

import csv
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from carepath.analytics.schema import CONTACTS
from carepath.analytics.validation import MAX_REPORTED, RowError, Validator
from carepath.assessment.convert import convert
from carepath.assessment.mapping import BUILT_IN, Mapping, built_in, merged
from carepath.assessment.technion import DETECT as TECHNION_COLUMNS
from carepath.assessment.technion import convert_technion
from carepath.errors import InvalidInput

Format = Literal["contacts", "chatwoot", "zendesk", "technion", "auto"]
FORMATS: tuple[str, ...] = ("contacts", "chatwoot", "zendesk", "technion", "auto")
BATCH_BYTES = 8 << 20
# Told the file, the rows read so far and the total when known (Parquet) or None (text).
Progress = Callable[[Path, int, int | None], None]
REPEATED = "appears more than once"


@dataclass(frozen=True)
class Problem:
    """One reason a row (or a whole file, when `row` is None) was left out."""

    file: str
    row: int | None
    column: str | None
    reason: str
    value: str | None = None

    def __str__(self) -> str:
        where = self.file if self.row is None else f"{self.file} row {self.row}"
        column = f", {self.column}" if self.column else ""
        shown = "" if self.value is None else f" (got {self.value!r})"
        return f"{where}{column}: {self.reason}{shown}"


@dataclass
class FileSummary:
    path: str
    format: str
    rows: int = 0
    excluded: dict[str, int] = field(default_factory=dict)
    invalid: int = 0
    used: int = 0
    error: str | None = None


@dataclass
class Intake:
    """The usable contacts of every input, and what was left out of them and why."""

    contacts: pa.Table
    files: list[FileSummary]
    problems: list[Problem]
    problem_count: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": [asdict(f) for f in self.files],
            "rows": sum(f.rows for f in self.files),
            "used": self.contacts.num_rows,
            "invalid": sum(f.invalid for f in self.files),
            "excluded": sum(sum(f.excluded.values()) for f in self.files),
            "problem_count": self.problem_count,
            "problems": [asdict(p) for p in self.problems],
        }

    def summary(self, shown: int = 20) -> str:
        lines = []
        for f in self.files:
            if f.error:
                lines.append(f"{f.path}: not read: {f.error}")
                continue
            excluded = "".join(f", {n:,} {why}" for why, n in f.excluded.items())
            lines.append(
                f"{f.path} ({f.format}): {f.rows:,} rows, {f.used:,} used, "
                f"{f.invalid:,} invalid left out{excluded}"
            )
        lines += [f"  {p}" for p in self.problems[:shown] if p.row is not None]
        if self.problem_count > shown:
            lines.append(f"  … {self.problem_count - shown:,} more problems (all in the JSON)")
        return "\n".join(lines)


def read_inputs(
    paths: list[Path],
    *,
    format: Format = "auto",
    mapping: Mapping | None = None,
    progress: Progress | None = None,
) -> Intake:
    """Every file converted and validated; raises InvalidInput when no row is usable."""
    reader = _Reader(progress)
    for path in paths:
        reader.read(path, format, mapping)
    return reader.finish()


class _Reader:
    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.validator = Validator(CONTACTS)
        self.files: list[FileSummary] = []
        self.problems: list[Problem] = []
        self.problem_count = 0
        self.kept: list[tuple[int, pa.Table]] = []
        # Per batch given to the validator: its first row there, its file, and the source row of
        # each of its rows (a range when nothing was left out before it), to name bad rows.
        self.origins: list[tuple[int, int, Sequence[int]]] = []
        self.given = 0

    def read(self, path: Path, format: Format, mapping: Mapping | None) -> None:
        summary = FileSummary(str(path), format)
        self.files.append(summary)
        try:
            header, delimiter = _header(path, mapping)
            chosen, active = _choose(path, header, format, mapping)
            summary.format = chosen
            self._batches(path, summary, chosen, active, delimiter)
        except InvalidInput as exc:
            summary.error = exc.message
            self._problem(Problem(str(path), None, None, exc.message))

    def _batches(
        self,
        path: Path,
        summary: FileSummary,
        chosen: str,
        active: Mapping | None,
        delimiter: str,
    ) -> None:
        file_index = len(self.files) - 1
        total = pq.ParquetFile(path).metadata.num_rows if _is_parquet(path) else None
        for batch in _raw_batches(path, delimiter):
            first = summary.rows + 1
            rows: Sequence[int]
            if chosen == "contacts":
                table, rows = batch, range(first, first + batch.num_rows)
            else:
                converted = (
                    convert_technion(batch, first, active.timezone if active else None)
                    if chosen == "technion"
                    else convert(_need(active), batch, first)
                )
                for error in converted.errors:
                    self._problem(_located(str(path), error))
                for why, count in converted.excluded.items():
                    summary.excluded[why] = summary.excluded.get(why, 0) + count
                summary.invalid += sum(converted.bad)
                table, rows = converted.good()
            summary.rows += batch.num_rows
            conformed, bad = self.validator.conform(table)
            summary.invalid += pc.sum(bad).as_py() or 0
            self.kept.append((file_index, conformed.filter(pc.invert(bad))))
            self.origins.append((self.given, file_index, rows))
            self.given += len(rows)
            if self.progress is not None:
                self.progress(path, summary.rows, total)

    def finish(self) -> Intake:
        validation = self.validator.finish()
        repeated: set[str] = set()
        for error in sorted(validation.errors, key=lambda e: (e.row, e.column)):
            if error.reason == REPEATED and error.value is not None:
                repeated.add(error.value)
            file_index, row = self._origin(error.row - 1)
            self._problem(_located(self.files[file_index].path, error, row))
        self.problem_count += validation.error_count - len(validation.errors)
        tables = []
        for file_index, table in self.kept:
            if repeated:
                # Which of two rows with one id is right is not ours to guess: both are left out.
                twice = pc.is_in(table.column("contact_id"), value_set=pa.array(sorted(repeated)))
                self.files[file_index].invalid += pc.sum(twice).as_py() or 0
                table = table.filter(pc.invert(twice))
            self.files[file_index].used += table.num_rows
            tables.append(table)
        contacts = pa.concat_tables(tables) if tables else CONTACTS.schema.empty_table()
        self.problems.sort(key=lambda p: (p.file, p.row or 0, p.column or ""))
        intake = Intake(contacts, self.files, self.problems, self.problem_count)
        if contacts.num_rows == 0:
            raise InvalidInput(
                "nothing usable is left of the input:\n" + intake.summary(),
                code="nothing_usable",
                intake=intake.as_dict(),
            )
        return intake

    def _origin(self, index: int) -> tuple[int, int]:
        """The file and source row of the index-th row given to the validator."""
        batch = bisect_right([start for start, _f, _r in self.origins], index) - 1
        start, file_index, rows = self.origins[batch]
        return file_index, rows[index - start]

    def _problem(self, problem: Problem) -> None:
        self.problem_count += 1
        if len(self.problems) < 2 * MAX_REPORTED:
            self.problems.append(problem)


def _located(path: str, error: RowError, row: int | None = None) -> Problem:
    return Problem(path, error.row if row is None else row, error.column, error.reason, error.value)


def _need(mapping: Mapping | None) -> Mapping:
    if mapping is None:
        raise InvalidInput("this format needs a mapping")
    return mapping


def _is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


def _header(path: Path, mapping: Mapping | None) -> tuple[list[str], str]:
    """The column names, and the delimiter of a text file (the mapping's, else sniffed)."""
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    if _is_parquet(path):
        return list(pq.read_schema(path).names), ","
    with path.open(newline="", encoding="utf-8-sig") as handle:
        line = handle.readline()
    if not line.strip():
        raise InvalidInput(f"{path}: empty; a header row is needed")
    delimiter = (
        mapping.delimiter
        if mapping is not None and "delimiter" in mapping.model_fields_set
        else None
    )
    if delimiter is None:
        delimiter = "\t" if line.count("\t") > line.count(",") else ","
    return next(csv.reader([line], delimiter=delimiter)), delimiter


def _choose(
    path: Path, header: list[str], format: Format, mapping: Mapping | None
) -> tuple[str, Mapping | None]:
    """The format to read the file with, and the mapping that goes with it."""
    columns = set(header)
    if mapping is not None and format in ("auto", "chatwoot", "zendesk") and mapping.columns:
        return ("mapping" if mapping.format is None else mapping.format), mapping
    if format == "auto":
        format = _detect(path, columns)
    if format in BUILT_IN:
        base = built_in(format)
        return format, base if mapping is None else merged(base, mapping)
    if format == "technion":
        missing = [c for c in TECHNION_COLUMNS if c not in columns]
        if missing:
            raise InvalidInput(f"{path}: not the Technion log: no column {', '.join(missing)}")
    return format, mapping


def _detect(path: Path, columns: set[str]) -> Format:
    if set(CONTACTS.names) <= columns:
        return "contacts"
    if set(TECHNION_COLUMNS) <= columns:
        return "technion"
    for name in BUILT_IN:
        if set(built_in(name).detect) <= columns:
            return "zendesk" if name == "zendesk" else "chatwoot"
    missing = sorted(set(CONTACTS.names) - columns)
    raise InvalidInput(
        f"{path}: cannot tell its format from the header; give --format or --mapping "
        f"(as the contacts table it lacks {', '.join(missing)})"
    )


def _raw_batches(path: Path, delimiter: str) -> Iterator[pa.Table]:
    if _is_parquet(path):
        for batch in pq.ParquetFile(path).iter_batches(batch_size=256 * 1024):
            yield pa.Table.from_batches([batch])
        return
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = next(csv.reader(handle, delimiter=delimiter))
    reader = pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(block_size=BATCH_BYTES, encoding="utf8"),
        parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    for batch in reader:
        yield pa.Table.from_batches([batch])
