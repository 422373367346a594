"""Reading Meta's JSON webhooks field by field, refusing a wrong shape with the path that is
wrong (`entry[0].changes[1].value.metadata`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from carepath.errors import InvalidInput

Json = Mapping[str, Any]


def wrong(path: str, expected: str) -> InvalidInput:
    return InvalidInput(f"{path} must be {expected}", field=path)


def as_object(value: object, path: str) -> Json:
    if not isinstance(value, Mapping):
        raise wrong(path, "an object")
    return value


def objects(data: Json, key: str, path: str, *, required: bool = False) -> list[tuple[Json, str]]:
    """The objects of the list `data[key]`, each with its path; a missing list is empty unless
    it is required."""
    where = f"{path}.{key}" if path else key
    value = data.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise wrong(where, "a list")
    return [(as_object(item, f"{where}[{i}]"), f"{where}[{i}]") for i, item in enumerate(value)]


def obj(data: Json, key: str, path: str) -> Json:
    return as_object(data.get(key), f"{path}.{key}")


def text(data: Json, key: str, path: str, *, required: bool = True) -> str:
    """A string field (ids may also come as JSON numbers); "" when optional and absent."""
    value = data.get(key)
    if isinstance(value, bool):
        raise wrong(f"{path}.{key}", "a string")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and (value.strip() or not required):
        return value.strip()
    if value is None and not required:
        return ""
    raise wrong(f"{path}.{key}", "a non-empty string")


def number(data: Json, key: str, path: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise wrong(f"{path}.{key}", "a number")
    try:
        return float(value)
    except ValueError as exc:
        raise wrong(f"{path}.{key}", "a number") from exc


def timestamp(data: Json, key: str, path: str, now: datetime, *, millis: bool = False) -> datetime:
    """The provider's time of an event, never later than `now` (clocks drift); `now` when absent.

    WhatsApp sends Unix seconds as a string, Messenger Unix milliseconds as a number.
    """
    if data.get(key) is None:
        return now
    seconds = number(data, key, path) / (1000 if millis else 1)
    try:
        at = datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise wrong(f"{path}.{key}", "a Unix time") from exc
    return min(at, now)
