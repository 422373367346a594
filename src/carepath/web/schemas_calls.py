"""Bodies of the callbacks and calls API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from carepath.domain.callbacks import Callback, CallbackSource, CallbackStatus
from carepath.domain.calls import Call, CallDirection, CallStatus, IvrChoice
from carepath.web.schemas import Request


class CaseCallbackIn(Request):
    phone: str | None = Field(
        default=None,
        min_length=3,
        max_length=40,
        description="International form (+44 20 7946 0958); default: the customer's number.",
    )
    when: Literal["now"] | AwareDatetime = Field(
        default="now", description='"now", or an ISO time with its zone (within 30 days).'
    )


class CallbackOut(BaseModel):
    id: str
    case_id: str
    customer_id: str
    phone: str
    requested_for: datetime
    status: CallbackStatus
    source: CallbackSource
    created_at: datetime

    @classmethod
    def of(cls, callback: Callback) -> CallbackOut:
        return cls.model_validate(callback, from_attributes=True)


class RecordingOut(BaseModel):
    sid: str | None = None
    url: str | None = None
    duration_s: float | None = None
    transcription: str | None = None
    transcription_url: str | None = None


class CallOut(BaseModel):
    id: str
    case_id: str
    customer_id: str
    contact_id: str | None
    callback_id: str | None
    direction: CallDirection
    status: CallStatus
    from_number: str = Field(description="Empty when the caller withheld their number.")
    to_number: str
    provider_sid: str | None
    placed_by: str | None = Field(description="The agent who placed an outbound call.")
    queue: str | None
    ivr_choice: IvrChoice | None
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    queue_result: str | None = Field(description="How the caller left the queue (QueueResult).")
    duration_s: float | None
    wait_s: float | None = Field(description="Seconds in the queue.")
    talk_s: float | None = Field(description="Seconds connected to an agent.")
    abandoned: bool = Field(description="The caller hung up while waiting in the queue.")
    recordings: list[RecordingOut]

    @classmethod
    def of(cls, call: Call) -> CallOut:
        return cls.model_validate(call, from_attributes=True)


class CallbackDetailOut(CallbackOut):
    calls: list[CallOut]
