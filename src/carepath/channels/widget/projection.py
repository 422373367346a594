"""What a visitor may see of their own events: the conversation, delivery and case status,
surveys to answer, callbacks and the team typing. Internal fields (assignees, notes, intents,
priorities) never leave; everything else is dropped."""

from __future__ import annotations

from typing import Any

from carepath.actions.conversation import STREAMED_CHANNELS
from carepath.domain.events import Event, EventType
from carepath.domain.messages import AuthorKind
from carepath.domain.surveys import SURVEY_LIFETIME, SurveyKind
from carepath.ids import TenantId
from carepath.storage import UnitOfWork
from carepath.survey_links import survey_token

_CASE_EVENTS = frozenset(
    {
        EventType.CASE_CREATED,
        EventType.CASE_UPDATED,
        EventType.CASE_ASSIGNED,
        EventType.CASE_RESOLVED,
        EventType.CASE_REOPENED,
    }
)
_SCALE_LABELS = {
    SurveyKind.CSAT: "How satisfied are you with the help you got?",
    SurveyKind.NPS: "How likely are you to recommend us to a friend?",
    SurveyKind.CES: "How easy was it to get your issue solved?",
}


class Projector:
    """Turns stream events into what one visitor's client receives (None: not for them).

    Author names are looked up once per connection: agents by display name, carepath's own
    messages (assistant, system) by the company's name.
    """

    def __init__(self, tenant_id: TenantId, secret: str) -> None:
        self.tenant_id = tenant_id
        self.secret = secret
        self._names: dict[str, str] = {}
        self._company: str | None = None

    async def project(self, uow: UnitOfWork, event: Event) -> dict[str, Any] | None:
        data = await self._data(uow, event.type, event.payload)
        if data is None:
            return None
        if event.type == EventType.SURVEY_SENT:
            data["expires_at"] = (event.created_at + SURVEY_LIFETIME).isoformat()
        return {
            "id": event.seq,
            "type": event.type,
            "at": event.created_at.isoformat(),
            "data": data,
        }

    async def _data(
        self, uow: UnitOfWork, type_: str, payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        if type_ == EventType.MESSAGE_CREATED and not payload.get("is_internal_note"):
            return await self._message(uow, payload)
        if type_ == EventType.MESSAGE_UPDATED and not payload.get("is_internal_note"):
            return {
                "message_id": payload["message_id"],
                "case_id": payload["case_id"],
                "delivery_status": payload.get("delivery_status"),
            }
        if type_ in _CASE_EVENTS:
            return {"case_id": payload["case_id"], "status": payload["status"]}
        if type_ == EventType.SURVEY_SENT and payload.get("channel") in STREAMED_CHANNELS:
            return _survey(payload, survey_token(self.secret, payload["survey_id"]))
        if type_ == EventType.SURVEY_ANSWERED:
            return {"survey_id": payload["survey_id"], "case_id": payload["case_id"]}
        if type_ == EventType.CALLBACK_REQUESTED:
            keep = ("callback_id", "case_id", "phone", "requested_for", "status")
            return {name: payload[name] for name in keep}
        if type_ == EventType.TYPING and payload.get("author_kind") != AuthorKind.CUSTOMER:
            author = await self._author(uow, payload.get("author_kind"), payload.get("author_id"))
            return {"case_id": payload.get("case_id"), "author": author}
        return None

    async def _message(self, uow: UnitOfWork, payload: dict[str, Any]) -> dict[str, Any]:
        inbound = payload["direction"] == "inbound"
        streamed = payload["channel"] in STREAMED_CHANNELS
        return {
            "message_id": payload["message_id"],
            "case_id": payload["case_id"],
            "channel": payload["channel"],
            "direction": payload["direction"],
            "author": await self._author(uow, payload["author_kind"], payload.get("author_id")),
            "text": payload["text"],
            # The client's own id for what it sent, so it can match its outbox.
            "client_id": payload.get("external_id") if inbound and streamed else None,
            "created_at": payload["created_at"],
        }

    async def _author(
        self, uow: UnitOfWork, kind: str | None, author_id: str | None
    ) -> dict[str, Any]:
        if kind == AuthorKind.CUSTOMER:
            return {"kind": kind, "name": None}
        if kind == AuthorKind.AGENT and author_id:
            if author_id not in self._names:
                user = await uow.users.get(self.tenant_id, author_id)
                self._names[author_id] = user.display_name if user else "Agent"
            return {"kind": kind, "name": self._names[author_id]}
        if self._company is None:
            tenant = await uow.tenants.get(self.tenant_id)
            self._company = tenant.name if tenant else ""
        return {"kind": kind or AuthorKind.SYSTEM.value, "name": self._company}


def _survey(payload: dict[str, Any], token: str) -> dict[str, Any]:
    questions = []
    for kind in map(SurveyKind, payload["kinds"]):
        scale = kind.scale
        questions.append(
            {
                "kind": kind.value,
                "text": _SCALE_LABELS[kind],
                "min": scale.start,
                "max": scale.stop - 1,
            }
        )
    return {
        "survey_id": payload["survey_id"],
        "case_id": payload["case_id"],
        "questions": questions,
        "token": token,
    }
