"""Free-form JSON properties (journey events, message metadata, customer traits): masked,
serialisable and bounded in size before anything stores them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from carepath.domain.masking import mask_in
from carepath.errors import InvalidInput


def clean_properties(
    properties: Mapping[str, Any] | None, *, field: str, max_bytes: int
) -> dict[str, Any]:
    """A masked copy of `properties`, refused unless it is a JSON object of at most `max_bytes`."""
    if properties is None:
        return {}
    if not isinstance(properties, Mapping):
        raise InvalidInput(f"{field} must be a JSON object", field=field)
    cleaned: dict[str, Any] = mask_in(dict(properties))
    size = json_size(cleaned, field=field)
    if size > max_bytes:
        raise InvalidInput(
            f"{field} is {size} bytes as JSON; the limit is {max_bytes}",
            field=field,
            size=size,
            limit=max_bytes,
        )
    return cleaned


def json_size(value: Any, *, field: str) -> int:
    """Bytes of `value` as compact UTF-8 JSON; InvalidInput if it is not plain JSON."""
    try:
        # NaN and Infinity are refused: PostgreSQL's json type and most clients reject them.
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(f"{field} must be plain JSON: {exc}", field=field) from exc
    if any(not isinstance(key, str) for key in _keys(value)):
        raise InvalidInput(f"{field} may only have string keys", field=field)
    return len(text.encode())


def _keys(value: Any) -> list[Any]:
    keys: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            keys.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return keys
