"""The mapping file: how the columns of another system's export become the contacts table
(renames, value maps, units, time formats and zone). The built-in Zendesk and Chatwoot formats
are mapping files themselves (`assessment/formats/*.yaml`)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from carepath.analytics.schema import CONTACTS
from carepath.errors import InvalidInput
from carepath.yaml_config import load_yaml, parse_yaml

BUILT_IN = ("zendesk", "chatwoot")
Unit = Literal["seconds", "minutes", "hours"]
UNIT_SECONDS: dict[str, float] = {"seconds": 1.0, "minutes": 60.0, "hours": 3600.0}
# Columns the table cannot do without: mapped from a column or set as a constant.
REQUIRED = ("contact_id", "customer_id", "started_at", "channel", "handled_by")
DURATIONS = ("wait_s", "handle_s")
Scalar = str | bool | int | float


class Interval(BaseModel):
    """A duration as the time between two source timestamps (e.g. created → first reply)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")


class Mapping(BaseModel):
    """See docs/assessment.md, "The mapping file", for every key with an example."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["zendesk", "chatwoot"] | None = Field(
        default=None, description="start from this built-in format; the keys below override"
    )
    description: str = ""
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    detect: list[str] = Field(
        default_factory=list, description="header columns that identify the format (auto)"
    )
    columns: dict[str, str] = Field(default_factory=dict, description="contacts column: source")
    constants: dict[str, Scalar] = Field(default_factory=dict)
    values: dict[str, dict[str, Scalar | None]] = Field(
        default_factory=dict,
        description='contacts column: {source value: value}; "*" any other, "" a missing one',
    )
    first_of: dict[str, str] = Field(
        default_factory=dict, description="contacts column: separator; keep the first item"
    )
    units: dict[str, Unit] = Field(default_factory=dict)
    intervals: dict[str, Interval] = Field(default_factory=dict)
    wait_channels: list[str] | None = Field(
        default=None, description="keep wait_s only on these (queued) channels"
    )
    missing: dict[str, list[str]] = Field(
        default_factory=dict, description="source column: texts that mean 'no value'"
    )
    time_format: str = Field(default="iso", description="iso, unix or a strptime pattern")
    time_formats: dict[str, str] = Field(default_factory=dict, description="per source column")
    timezone: str | None = Field(default=None, description="IANA zone of times without one")

    @field_validator("columns", "constants", "values", "first_of", "units", "intervals")
    @classmethod
    def _known_targets(cls, value: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(value) - set(CONTACTS.names))
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} not in the contacts table ({', '.join(CONTACTS.names)})"
            )
        return value

    @field_validator("units", "intervals")
    @classmethod
    def _durations_only(cls, value: dict[str, Any]) -> dict[str, Any]:
        wrong = sorted(set(value) - set(DURATIONS))
        if wrong:
            raise ValueError(f"only {', '.join(DURATIONS)} are durations, not {', '.join(wrong)}")
        return value

    @field_validator("values")
    @classmethod
    def _lower_keys(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        # Exports differ in case ("Email", "email"); matching ignores it.
        return {column: {k.strip().lower(): v for k, v in m.items()} for column, m in value.items()}

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None:
            from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    @model_validator(mode="after")
    def _complete(self) -> Mapping:
        sourced = set(self.columns) | set(self.constants) | set(self.intervals)
        if self.format is not None or not sourced:
            # Completed when merged onto its built-in format; or only options (a timezone, a
            # delimiter) for whichever format the file turns out to be.
            return self
        missing = [name for name in REQUIRED if name not in sourced]
        if missing:
            raise ValueError(f"nothing gives {', '.join(missing)}: map a column or a constant")
        return self

    def source_columns(self) -> list[str]:
        """Every column of the export the mapping reads."""
        found = list(self.columns.values())
        for interval in self.intervals.values():
            found += [interval.start, interval.end]
        return list(dict.fromkeys(found))

    def time_format_of(self, source: str) -> str:
        return self.time_formats.get(source, self.time_format)


def built_in(name: str) -> Mapping:
    """A built-in format, from the mapping file shipped in the package."""
    if name not in BUILT_IN:
        raise InvalidInput(f"no built-in format {name!r}; use one of {', '.join(BUILT_IN)}")
    text = (
        resources.files("carepath.assessment.formats").joinpath(f"{name}.yaml").read_text("utf-8")
    )
    return parse_yaml(text, Mapping, source=f"built-in format {name}")


def load_mapping(path: Path) -> Mapping:
    """A mapping file; with `format:`, the built-in format with the file's keys laid over it."""
    mapping = load_yaml(path, Mapping)
    if mapping.format is None:
        return mapping
    return merged(built_in(mapping.format), mapping)


def merged(base: Mapping, override: Mapping) -> Mapping:
    data = base.model_dump(by_alias=True)
    for key in override.model_fields_set - {"format"}:
        value = override.model_dump(by_alias=True)[key]
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    try:
        return Mapping.model_validate(data)
    except ValueError as exc:
        raise InvalidInput(f"the mapping is incomplete: {exc}") from exc
