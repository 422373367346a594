"""One timeline of a case: messages, notes, calls, callbacks and journey events, each with its
channel, oldest first."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from carepath.domain.callbacks import Callback
from carepath.domain.calls import Call
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.messages import AuthorKind, Message

# carepath records a journey event for each of these too; the object itself is shown instead.
_SHOWN_AS_OBJECTS = frozenset(
    {JourneyEventType.MESSAGE, JourneyEventType.CALL, JourneyEventType.CALLBACK}
)


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str  # inbound, outbound, note, call, callback, journey
    channel: str
    who: str
    text: str
    status: str | None = None


def _author(message: Message, names: Mapping[str, str]) -> str:
    if message.author_kind is AuthorKind.AGENT:
        return names.get(message.author_id or "", "Agent")
    return message.author_kind.value.capitalize()


def timeline(
    messages: Sequence[Message],
    calls: Sequence[Call],
    callbacks: Sequence[Callback],
    journey: Sequence[JourneyEvent],
    names: Mapping[str, str],
) -> list[Entry]:
    entries = [
        Entry(
            at=m.created_at,
            kind="note" if m.is_internal_note else m.direction.value,
            channel=m.channel.value,
            who=_author(m, names),
            text=m.text,
            status=m.delivery_status.value if m.delivery_status else None,
        )
        for m in messages
    ]
    entries += [
        Entry(
            at=c.started_at,
            kind="call",
            channel="voice",
            who=f"{c.direction.value} call",
            text=f"{c.from_number} → {c.to_number}",
            status=c.status.value,
        )
        for c in calls
    ]
    entries += [
        Entry(
            at=cb.created_at,
            kind="callback",
            channel="voice",
            who=f"callback ({cb.source.value})",
            text=f"call {cb.phone} at {cb.requested_for:%Y-%m-%d %H:%M} UTC",
            status=cb.status.value,
        )
        for cb in callbacks
    ]
    entries += [
        Entry(
            at=j.occurred_at,
            kind="journey",
            channel=j.channel.value,
            who=j.type.value.replace("_", " "),
            text=j.name.replace("_", " "),
        )
        for j in journey
        if j.type not in _SHOWN_AS_OBJECTS
    ]
    return sorted(entries, key=lambda e: e.at)
