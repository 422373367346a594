"""Reading the timestamps of other systems' exports: ISO 8601, Unix seconds or a strptime
pattern; a time without a zone is read in the mapping's zone, or refused when it has none."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

# "2024-05-01 09:30:00 +0200": some exports put a space before the offset.
_SPACED_OFFSET = re.compile(r"\s+(Z|[+-]\d{2}:?\d{2})$")
NO_ZONE = "no time zone offset, and the mapping sets no timezone for times without one"


class TimeReader:
    """Parses one column's texts to UTC; `read` returns a datetime or the reason it cannot."""

    def __init__(self, time_format: str, timezone: str | None) -> None:
        self.format = time_format
        self.zone: tzinfo | None = ZoneInfo(timezone) if timezone else None

    def read(self, text: str) -> datetime | str:
        try:
            moment = self._parse(text.strip())
        except (ValueError, OverflowError, OSError):
            return f"not a time in the format {self._shown()}"
        if moment.tzinfo is None:
            if self.zone is None:
                return NO_ZONE
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(UTC)

    def _parse(self, text: str) -> datetime:
        if self.format == "unix":
            return datetime.fromtimestamp(float(text), UTC)
        if self.format == "iso":
            return datetime.fromisoformat(_SPACED_OFFSET.sub(r"\1", text))
        return datetime.strptime(text, self.format)  # the zone is applied below

    def _shown(self) -> str:
        if self.format == "iso":
            return "ISO 8601 (e.g. 2024-05-01T09:30:00+02:00)"
        if self.format == "unix":
            return "Unix seconds"
        return repr(self.format)
