"""Twilio's voice webhook forms (a call, a key press, progress reports) read into plain values."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from carepath.domain.calls import CallReport, CallStatus
from carepath.domain.identities import IdentityKind, normalize_identity
from carepath.errors import InvalidInput

# What Twilio puts in `From` when the caller withheld their number: the words ANONYMOUS,
# UNAVAILABLE, RESTRICTED and BLOCKED on a phone keypad. They are nobody's number.
WITHHELD_NUMBERS = frozenset({"+266696687", "+86282452253", "+7378742833", "+2562533"})
MAX_URL_LENGTH = 1000
# Parameters that make a progress report worth recording; a form with none of them is malformed.
_REPORT_FIELDS = ("CallStatus", "QueueResult", "QueueTime", "RecordingUrl", "TranscriptionText")


@dataclass(frozen=True)
class CallRequest:
    """The standard parameters of every voice request, and `Digits` after a `<Gather>`."""

    call_sid: str
    caller: str | None  # the caller's E.164 number; None when withheld or not a phone
    to: str
    direction: str
    caller_name: str | None
    digits: str | None


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise InvalidInput(f"the form has no {name}", field=name)
    if len(value) > 64:
        raise InvalidInput(f"{name} is longer than 64 characters", field=name)
    return value


def _optional(form: Mapping[str, str], name: str) -> str | None:
    value = form.get(name, "").strip()
    return value or None


def _seconds(form: Mapping[str, str], name: str) -> float | None:
    raw = _optional(form, name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise InvalidInput(f"{name} is not a number of seconds", field=name) from exc
    if not math.isfinite(value) or value < 0:
        raise InvalidInput(f"{name} is not a number of seconds", field=name)
    return value


def _url(form: Mapping[str, str], name: str) -> str | None:
    raw = _optional(form, name)
    if raw is None:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(raw) > MAX_URL_LENGTH:
        raise InvalidInput(f"{name} is not an http(s) URL", field=name)
    return raw


def caller_number(value: str) -> str | None:
    """The caller's number in E.164, or None when it was withheld or is not a phone number
    (a `client:` identity, `anonymous`)."""
    try:
        number = normalize_identity(IdentityKind.PHONE, value)
    except InvalidInput:
        return None
    return None if number in WITHHELD_NUMBERS else number


def _number(value: str) -> str:
    """Our number in E.164 as stored; anything else as sent, cut to the column's width."""
    try:
        return normalize_identity(IdentityKind.PHONE, value)
    except InvalidInput:
        return value.strip()[:40]


def parse_call_request(form: Mapping[str, str]) -> CallRequest:
    digits = _optional(form, "Digits")
    if digits is not None and (len(digits) > 32 or not all(c in "0123456789*#" for c in digits)):
        raise InvalidInput("Digits holds keys other than 0-9, * and #", field="Digits")
    return CallRequest(
        call_sid=_required(form, "CallSid"),
        caller=caller_number(form.get("From", "")),
        to=_number(form.get("To", "")),
        direction=(_optional(form, "Direction") or "inbound").lower(),
        caller_name=(_optional(form, "CallerName") or "")[:200] or None,
        digits=digits,
    )


def parse_call_report(form: Mapping[str, str]) -> CallReport:
    call_sid = _required(form, "CallSid")
    if not any(_optional(form, name) for name in _REPORT_FIELDS):
        raise InvalidInput(
            f"the form reports nothing: expected one of {', '.join(_REPORT_FIELDS)}",
            field="CallStatus",
        )
    status = None
    raw_status = _optional(form, "CallStatus")
    if raw_status is not None:
        status = CallStatus.from_provider(raw_status)
        if status is None:
            raise InvalidInput(f"unknown CallStatus {raw_status!r}", field="CallStatus")
    queue_result = _optional(form, "QueueResult")
    return CallReport(
        call_sid=call_sid,
        status=status,
        duration_s=_seconds(form, "CallDuration"),
        queue_result=queue_result.lower()[:40] if queue_result else None,
        queue_time_s=_seconds(form, "QueueTime"),
        recording_sid=(_optional(form, "RecordingSid") or "")[:64] or None,
        recording_url=_url(form, "RecordingUrl"),
        recording_duration_s=_seconds(form, "RecordingDuration"),
        transcription_text=_optional(form, "TranscriptionText"),
        transcription_url=_url(form, "TranscriptionUrl"),
    )
