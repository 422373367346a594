"""Bodies of the cases API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, model_validator

from carepath.domain.cases import Case, CaseStatus, Priority
from carepath.domain.contacts import Channel, Contact, Handler
from carepath.domain.journey import JourneyEvent
from carepath.domain.messages import Message
from carepath.web.schemas import Request


class CaseOut(BaseModel):
    id: str
    customer_id: str
    status: CaseStatus
    channel: Channel
    intent: str | None
    priority: Priority
    segment: str | None
    assignee_id: str | None
    subject: str | None
    sla_due_at: datetime | None
    reopen_count: int
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def of(cls, case: Case) -> CaseOut:
        return cls.model_validate(case, from_attributes=True)


class MessageOut(BaseModel):
    id: str
    case_id: str
    contact_id: str | None
    channel: Channel
    direction: str
    author_kind: str
    author_id: str | None
    text: str
    is_internal_note: bool
    external_id: str | None
    attachments: list[dict[str, Any]]
    delivery_status: str | None
    created_at: datetime

    @classmethod
    def of(cls, message: Message) -> MessageOut:
        return cls.model_validate(message, from_attributes=True)


class ContactOut(BaseModel):
    id: str
    channel: Channel
    handled_by: Handler
    started_at: datetime
    last_activity_at: datetime
    ended_at: datetime | None
    assistant_involved: bool
    resolved: bool | None
    abandoned: bool
    csat: int | None
    nps: int | None
    ces: int | None

    @classmethod
    def of(cls, contact: Contact) -> ContactOut:
        return cls.model_validate(contact, from_attributes=True)


class JourneyEventOut(BaseModel):
    id: str
    customer_id: str
    type: str
    name: str
    channel: Channel
    occurred_at: datetime
    properties: dict[str, Any]
    case_id: str | None
    contact_id: str | None

    @classmethod
    def of(cls, event: JourneyEvent) -> JourneyEventOut:
        return cls.model_validate(event, from_attributes=True)


class CaseDetailOut(CaseOut):
    handoff: dict[str, Any] | None = Field(
        default=None,
        description="The assistant's hand-off packet (intent, slots, authentication, summary, "
        "journey, transcript, reason, skill, priority): what the agent reads first.",
    )
    messages: list[MessageOut] = Field(description="Oldest first, internal notes included.")
    contacts: list[ContactOut]
    journey: list[JourneyEventOut] = Field(
        description="The customer's recent journey across every channel, oldest first."
    )


class TemplateIn(Request):
    name: str = Field(min_length=1, max_length=512, description="The approved template's name.")
    language: str = Field(min_length=2, max_length=10, description="Its locale, e.g. en_US.")
    components: list[dict[str, Any]] = Field(
        default_factory=list, description="Parameters, in the WhatsApp Cloud API's shape."
    )


class ReplyIn(Request):
    text: str | None = Field(
        default=None, min_length=1, max_length=20_000, description="Required without template."
    )
    channel: Channel | None = Field(
        default=None, description="Reply on another channel than the case's current one."
    )
    set_pending: bool = Field(default=False, description="Then wait for the customer.")
    template: TemplateIn | None = Field(
        default=None,
        description="WhatsApp only: send this approved template, the one thing allowed more "
        "than 24 hours after the customer's last message.",
    )

    @model_validator(mode="after")
    def _text_or_template(self) -> ReplyIn:
        if self.text is None and self.template is None:
            raise ValueError("a reply needs text (or, on WhatsApp, a template)")
        return self


class NoteIn(Request):
    text: str = Field(min_length=1, max_length=20_000)


class CaseUpdateIn(Request):
    intent: str | None = Field(default=None, min_length=1, max_length=80)
    clear_intent: bool = False
    priority: Priority | None = None
    subject: str | None = Field(default=None, max_length=300)


class AssignIn(Request):
    assignee_id: str | None = Field(description="A user id, or null to give the case back.")
