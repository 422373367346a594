"""What the three implementations of benchmarks/analytics.py share: the suite's settings and
plain rows to compare."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

FCR_DAYS, HOURS, LEVEL_S = 7, 24, 20
CHANNELS = ("web", "app", "chat", "email", "sms", "whatsapp", "social", "voice")
DIGITAL = tuple(c for c in CHANNELS if c != "voice")
PLAN = {
    ("order_status", "*"): "self_serve",
    ("password_reset", "*"): "self_serve",
    ("billing_dispute", "*"): "assisted",
    ("*", "voice"): "live",
    ("*", "*"): "assisted",
}
GROUPS = ("channel", "intent", "segment")
Rows = list[dict[str, Any]]


class Options(NamedTuple):
    """How the engines read the input: in place (the Parquet file, not a copy in memory), and
    DuckDB's memory limit and where it spills beyond it."""

    in_place: bool = False
    memory_limit: str | None = None
    spill_to: str | None = None


Suite = dict[str, Rows]


def plain_row(row: dict[str, Any]) -> dict[str, Any]:
    return {str(k): plain(v) for k, v in row.items()}


def plain(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10] if hasattr(value, "year") else value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return plain(value.item())
    return value


def records(frame: Any) -> Rows:
    return [plain_row(row) for row in frame.to_dict("records")]
