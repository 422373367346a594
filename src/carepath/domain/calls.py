"""Phone calls on a case: who called whom, what the phone menu did, and the provider's progress
reports turned into wait time, talk time and abandonment."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.clock import utcnow
from carepath.domain.masking import mask_card_numbers
from carepath.ids import CaseId, ContactId, CustomerId, TenantId, UserId, new_id

MAX_RECORDINGS = 20
MAX_TRANSCRIPTION_LENGTH = 20_000


class CallDirection(enum.StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class CallStatus(enum.StrEnum):
    """The provider's call states (Twilio's `CallStatus`, with `_` for `-`)."""

    QUEUED = "queued"
    RINGING = "ringing"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL

    @classmethod
    def from_provider(cls, value: str) -> CallStatus | None:
        """Twilio's value (`in-progress`, `no-answer`, `initiated`…); None if unknown."""
        value = value.strip().lower().replace("-", "_")
        if value == "initiated":
            return cls.QUEUED
        try:
            return cls(value)
        except ValueError:
            return None


_FINAL = frozenset(
    {
        CallStatus.COMPLETED,
        CallStatus.BUSY,
        CallStatus.NO_ANSWER,
        CallStatus.FAILED,
        CallStatus.CANCELED,
    }
)
_RANK = {
    CallStatus.QUEUED: 0,
    CallStatus.RINGING: 1,
    CallStatus.IN_PROGRESS: 2,
}


class IvrChoice(enum.StrEnum):
    """What the caller did in the phone menu."""

    CONTINUE_IN_CHAT = "continue_in_chat"  # pressed 1: a text with a link to the chat
    CALLBACK = "callback"  # pressed 2: call me back instead of waiting
    QUEUE = "queue"  # anything else, or nothing: wait for an agent


# Twilio's QueueResult when the caller left the queue by hanging up.
QUEUE_HANGUP = "hangup"
QUEUE_BRIDGED = "bridged"


@dataclass(frozen=True)
class CallReport:
    """What a provider reports about a call, normalized: a status callback, how the caller
    left the queue, or a recording or transcription being ready."""

    call_sid: str
    status: CallStatus | None = None
    duration_s: float | None = None
    queue_result: str | None = None
    queue_time_s: float | None = None
    recording_sid: str | None = None
    recording_url: str | None = None
    recording_duration_s: float | None = None
    transcription_text: str | None = None
    transcription_url: str | None = None

    @property
    def has_recording(self) -> bool:
        return bool(self.recording_url or self.transcription_text or self.transcription_url)


@dataclass(eq=False)
class Call:
    """One phone call about a case. Inbound: the customer called; outbound: carepath called the
    customer (a callback). `provider_sid` is Twilio's CallSid, the key of its reports.

    Times: `wait_s` is the time in the provider's queue (its QueueTime); `talk_s` the time
    connected to an agent; `duration_s` the provider's CallDuration (answer to hang-up, menu and
    queue included on an inbound call).
    """

    tenant_id: TenantId
    case_id: CaseId
    customer_id: CustomerId
    direction: CallDirection
    from_number: str
    to_number: str
    started_at: datetime
    status: CallStatus = CallStatus.QUEUED
    provider_sid: str | None = None
    contact_id: ContactId | None = None
    callback_id: str | None = None
    placed_by: UserId | None = None
    queue: str | None = None
    ivr_choice: IvrChoice | None = None
    answered_at: datetime | None = None
    enqueued_at: datetime | None = None
    ended_at: datetime | None = None
    queue_result: str | None = None
    duration_s: float | None = None
    wait_s: float | None = None
    talk_s: float | None = None
    abandoned: bool = False
    recordings: list[dict[str, Any]] = field(default_factory=list)
    id: str = field(default_factory=lambda: new_id("call"))
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)

    @classmethod
    def incoming(
        cls,
        *,
        tenant_id: TenantId,
        case_id: CaseId,
        customer_id: CustomerId,
        contact_id: ContactId,
        provider_sid: str,
        from_number: str,
        to_number: str,
        now: datetime,
    ) -> Call:
        """A call carepath answers now (its TwiML is the answer)."""
        return cls(
            tenant_id=tenant_id,
            case_id=case_id,
            customer_id=customer_id,
            contact_id=contact_id,
            direction=CallDirection.INBOUND,
            provider_sid=provider_sid,
            from_number=from_number,
            to_number=to_number,
            status=CallStatus.IN_PROGRESS,
            started_at=now,
            answered_at=now,
            created_at=now,
            updated_at=now,
        )

    @classmethod
    def outbound(
        cls,
        *,
        tenant_id: TenantId,
        case_id: CaseId,
        customer_id: CustomerId,
        from_number: str,
        to_number: str,
        callback_id: str | None,
        placed_by: UserId | None,
        now: datetime,
    ) -> Call:
        """A call to the customer, to be placed through the provider."""
        return cls(
            tenant_id=tenant_id,
            case_id=case_id,
            customer_id=customer_id,
            direction=CallDirection.OUTBOUND,
            from_number=from_number,
            to_number=to_number,
            callback_id=callback_id,
            placed_by=placed_by,
            started_at=now,
            created_at=now,
            updated_at=now,
        )

    @property
    def is_ended(self) -> bool:
        return self.status.is_final

    @property
    def customer_number(self) -> str:
        return self.from_number if self.direction is CallDirection.INBOUND else self.to_number

    def choose(self, choice: IvrChoice, now: datetime) -> None:
        self.ivr_choice = IvrChoice(choice)
        self.updated_at = now

    def enter_queue(self, queue: str, now: datetime) -> None:
        """The caller was put in `queue` (the first time counts for the menu time)."""
        self.queue = queue
        if self.enqueued_at is None:
            self.enqueued_at = now
        self.updated_at = now

    def progress(self, status: CallStatus, now: datetime, *, duration_s: float | None) -> bool:
        """Apply a provider report; True if anything changed. Reports arrive out of order: the
        status only moves forward, and an ended call stays ended."""
        changed = False
        if duration_s is not None and duration_s != self.duration_s:
            self.duration_s = max(duration_s, 0.0)
            changed = True
        if not self.status.is_final and (
            status.is_final or _RANK.get(status, 0) > _RANK.get(self.status, 0)
        ):
            self.status = status
            if status is CallStatus.IN_PROGRESS and self.answered_at is None:
                self.answered_at = now
            if status.is_final:
                self.ended_at = max(now, self.started_at)
            changed = True
        if changed:
            self._measure()
            self.updated_at = now
        return changed

    def left_queue(self, result: str, queue_time_s: float | None, now: datetime) -> bool:
        """The provider says how the caller left the queue (Twilio's QueueResult, QueueTime)."""
        result = result.strip().lower()
        if result == self.queue_result and queue_time_s in (None, self.wait_s):
            return False
        self.queue_result = result or self.queue_result
        if queue_time_s is not None:
            self.wait_s = max(queue_time_s, 0.0)
        self._measure()
        self.updated_at = now
        return True

    def waited(self, queue_time_s: float, now: datetime) -> bool:
        """Time in queue reported without a result (a status callback carrying QueueTime)."""
        if self.wait_s == queue_time_s:
            return False
        self.wait_s = max(queue_time_s, 0.0)
        self._measure()
        self.updated_at = now
        return True

    def add_recording(
        self,
        *,
        sid: str | None,
        url: str | None,
        duration_s: float | None,
        transcription: str | None,
        transcription_url: str | None,
        now: datetime,
    ) -> bool:
        """Keep a recording's link (and its transcription, which arrives later, apart)."""
        entries = [dict(entry) for entry in self.recordings]
        entry = next(
            (e for e in entries if (sid and e.get("sid") == sid) or (url and e.get("url") == url)),
            None,
        )
        if entry is None:
            if len(entries) >= MAX_RECORDINGS:
                return False
            entry = {}
            entries.append(entry)
        before = dict(entry)
        for key, value in (
            ("sid", sid),
            ("url", url),
            ("duration_s", duration_s),
            ("transcription_url", transcription_url),
        ):
            if value is not None:
                entry[key] = value
        if transcription is not None:
            entry["transcription"] = mask_card_numbers(transcription[:MAX_TRANSCRIPTION_LENGTH])
        if entry == before:
            return False
        # A new list: the mapper only notices a JSON column change when the attribute is replaced.
        self.recordings = entries
        self.updated_at = now
        return True

    def _measure(self) -> None:
        """Talk time and abandonment from what is known so far (reports come in any order)."""
        if self.direction is CallDirection.OUTBOUND:
            if self.status is CallStatus.COMPLETED:
                self.talk_s = self.duration_s or 0.0
            elif self.status.is_final:
                self.talk_s = 0.0
            return
        self.abandoned = self.queue_result == QUEUE_HANGUP
        if self.queue_result == QUEUE_BRIDGED and self.duration_s is not None:
            menu_s = (
                (self.enqueued_at - self.answered_at).total_seconds()
                if self.enqueued_at and self.answered_at
                else 0.0
            )
            self.talk_s = max(self.duration_s - menu_s - (self.wait_s or 0.0), 0.0)
        elif self.status.is_final:
            self.talk_s = 0.0
