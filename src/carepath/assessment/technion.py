"""The Technion "Anonymous Bank" call log (SEE Center, 1999; tab-separated, one row per call) as
contacts. The rules, from the issue and the data's documentation:

- PHANTOM rows are left out (not calls);
- `q_start` 0:00:00: the call never reached the queue, so its wait is null;
- HANG after reaching the queue: abandoned; HANG before it: ended in the phone menu (self-service);
- AGENT with server NO_SERVER: served by the phone menu (self-service);
- wait is `q_time` for calls that reached the queue; handle time is `ser_time` for calls an agent
  served.

`customer_id` 0 (the log records callers only once they queue) becomes one customer per call,
so unknown callers are not merged into one. Times are local to the bank (Asia/Jerusalem unless
the mapping's `timezone` says otherwise); calls that end after midnight end on the next day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pyarrow as pa

from carepath.assessment.convert import Converted, texts

COLUMNS = (
    "vru+line", "call_id", "customer_id", "priority", "type", "date", "vru_entry", "vru_exit",
    "vru_time", "q_start", "q_exit", "q_time", "outcome", "ser_start", "ser_exit", "ser_time",
    "server",
)  # fmt: skip
DETECT = ("vru+line", "call_id", "outcome", "q_start", "server")
TIMEZONE = "Asia/Jerusalem"
NEVER = "0:00:00"
NO_SERVER = "NO_SERVER"
OUTCOMES = ("AGENT", "HANG", "PHANTOM")
# The service types of the SEE Center documentation, as intents.
INTENTS = {
    "PS": "regular_activity",
    "PE": "regular_activity_english",
    "IN": "internet_consulting",
    "NE": "stock_exchange",
    "NW": "prospect_information",
    "TT": "callback_request",
}


def convert_technion(table: pa.Table, first_row: int, timezone: str | None = None) -> Converted:
    """A batch of the log as contacts columns; PHANTOM rows kept out, bad values reported."""
    zone = ZoneInfo(timezone or TIMEZONE)
    out = Converted(table.num_rows, first_row)
    source = {name: texts(table.column(name)) for name in COLUMNS}
    rows: list[dict[str, object]] = []
    keep: list[bool] = []
    for index in range(table.num_rows):
        values = {name: source[name][index] for name in COLUMNS}
        if values["outcome"] == "PHANTOM":
            out.excluded["PHANTOM call (not a call)"] = (
                out.excluded.get("PHANTOM call (not a call)", 0) + 1
            )
            keep.append(False)
            rows.append({})
            continue
        keep.append(True)
        rows.append(_call(values, index, out, zone))
    out.keep = keep
    for name in _OUTPUT:
        out.columns[name] = [row.get(name) for row in rows]
    return out


_OUTPUT = (
    "contact_id", "customer_id", "case_id", "started_at", "ended_at", "channel", "handled_by",
    "assistant_involved", "intent", "segment", "resolved", "abandoned", "wait_s", "handle_s",
    "csat", "nps", "ces",
)  # fmt: skip


class _Bad(ValueError):
    def __init__(self, column: str, reason: str, value: str | None) -> None:
        super().__init__(reason)
        self.column, self.reason, self.value = column, reason, value


def _call(
    values: dict[str, str | None], index: int, out: Converted, zone: tzinfo
) -> dict[str, object]:
    try:
        return _read_call(values, zone)
    except _Bad as bad:
        out.fail(index, bad.column, bad.reason, bad.value)
        return {}


def _read_call(v: dict[str, str | None], zone: tzinfo) -> dict[str, object]:
    outcome = _need(v, "outcome")
    if outcome not in OUTCOMES:
        raise _Bad("outcome", f"must be one of {', '.join(OUTCOMES)}", outcome)
    day = _day(_need(v, "date"))
    started = _clock(v, "vru_entry", day, zone)
    queued = _need(v, "q_start") != NEVER
    by_agent = outcome == "AGENT" and _need(v, "server") != NO_SERVER
    abandoned = outcome == "HANG" and queued
    last = "ser_exit" if outcome == "AGENT" and v["ser_exit"] != NEVER else None
    last = last or ("q_exit" if queued else "vru_exit")
    ended = _clock(v, last, day, zone)
    if ended < started:
        ended += timedelta(days=1)  # the call went on past midnight
    customer = _need(v, "customer_id")
    contact_id = f"{_need(v, 'vru+line')}-{_need(v, 'call_id')}"
    kind = _need(v, "type")
    return {
        "contact_id": contact_id,
        "customer_id": f"call-{contact_id}" if customer == "0" else customer,
        "case_id": None,
        "started_at": started,
        "ended_at": ended,
        "channel": "voice",
        "handled_by": "agent" if by_agent else "self_service",
        "assistant_involved": False,
        "intent": INTENTS.get(kind, kind.lower()),
        "segment": f"priority_{_need(v, 'priority')}",
        "resolved": None,
        "abandoned": abandoned,
        "wait_s": _seconds(v, "q_time") if queued else None,
        "handle_s": _seconds(v, "ser_time") if by_agent else None,
        "csat": None,
        "nps": None,
        "ces": None,
    }


def _need(v: dict[str, str | None], column: str) -> str:
    value = v[column]
    if value is None:
        raise _Bad(column, "missing", None)
    return value.strip()


def _day(text: str) -> date:
    try:
        return datetime.strptime(text, "%y%m%d").date()
    except ValueError:
        raise _Bad("date", "not a date YYMMDD", text) from None


def _clock(v: dict[str, str | None], column: str, day: date, zone: tzinfo) -> datetime:
    text = _need(v, column)
    try:
        hours, minutes, seconds = (int(part) for part in text.split(":"))
        if not (0 <= hours < 24 and 0 <= minutes < 60 and 0 <= seconds < 60):
            raise ValueError(text)
    except ValueError:
        raise _Bad(column, "not a time of day H:MM:SS", text) from None
    local = datetime(day.year, day.month, day.day, hours, minutes, seconds, tzinfo=zone)
    return local.astimezone(ZoneInfo("UTC"))


def _seconds(v: dict[str, str | None], column: str) -> float:
    text = _need(v, column)
    try:
        value = float(text)
    except ValueError:
        raise _Bad(column, "not a number of seconds", text) from None
    if value < 0:
        raise _Bad(column, "must not be negative", text)
    return value
