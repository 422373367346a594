"""Post-resolution surveys (CSAT 1-5, NPS 0-10, CES 1-5): sent on resolution, answered once."""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.errors import Conflict, InvalidInput
from carepath.ids import CaseId, ContactId, CustomerId, TenantId, new_id

SURVEY_LIFETIME = timedelta(days=7)


class SurveyKind(enum.StrEnum):
    CSAT = "csat"
    NPS = "nps"
    CES = "ces"

    @property
    def scale(self) -> range:
        return range(0, 11) if self is SurveyKind.NPS else range(1, 6)

    @property
    def question(self) -> str:
        return _QUESTIONS[self]


_QUESTIONS = {
    SurveyKind.CSAT: "How satisfied are you with the help you got? Reply 1 (not at all) to 5.",
    SurveyKind.NPS: "How likely are you to recommend us to a friend? Reply 0 (not at all) to 10.",
    SurveyKind.CES: "How easy was it to get your issue solved? Reply 1 (very hard) to 5 (easy).",
}
_BARE_NUMBER = re.compile(r"\s*(\d{1,2})\s*[.!]?\s*")


class SurveyExpired(Conflict):
    code = "survey_expired"


class SurveyAlreadyAnswered(Conflict):
    code = "survey_already_answered"


@dataclass(eq=False)
class Survey:
    tenant_id: TenantId
    case_id: CaseId
    customer_id: CustomerId
    channel: Channel
    kinds: list[str]
    contact_id: ContactId | None = None
    id: str = field(default_factory=lambda: new_id("survey"))
    sent_at: datetime = field(default_factory=utcnow)
    expires_at: datetime = field(default_factory=lambda: utcnow() + SURVEY_LIFETIME)
    answered_at: datetime | None = None
    answers: dict[str, int] = field(default_factory=dict)

    @classmethod
    def send(
        cls,
        *,
        tenant_id: TenantId,
        case_id: CaseId,
        customer_id: CustomerId,
        channel: Channel,
        contact_id: ContactId | None,
        kinds: list[str],
        now: datetime,
    ) -> Survey:
        ordered: list[str] = [k.value for k in SurveyKind if k.value in kinds]
        if not ordered:
            raise InvalidInput("a survey needs at least one kind", field="kinds")
        return cls(
            tenant_id=tenant_id,
            case_id=case_id,
            customer_id=customer_id,
            channel=channel,
            contact_id=contact_id,
            kinds=ordered,
            sent_at=now,
            expires_at=now + SURVEY_LIFETIME,
        )

    def is_open(self, now: datetime) -> bool:
        return self.answered_at is None and now < self.expires_at

    def answer(self, answers: Mapping[str, int], now: datetime) -> None:
        """Record the answers, all at once; a survey is answered once, and not after it expires."""
        if self.answered_at is not None:
            raise SurveyAlreadyAnswered("this survey has already been answered; thank you")
        if now >= self.expires_at:
            raise SurveyExpired("this survey has expired")
        if not answers:
            raise InvalidInput("give at least one answer", field="answers")
        for kind, score in answers.items():
            if kind not in self.kinds:
                raise InvalidInput(f"this survey does not ask for {kind!r}", field="answers")
            if (
                isinstance(score, bool)
                or not isinstance(score, int)
                or score not in SurveyKind(kind).scale
            ):
                scale = SurveyKind(kind).scale
                raise InvalidInput(
                    f"{kind} is a whole number from {scale.start} to {scale.stop - 1}",
                    field=f"answers.{kind}",
                )
        self.answers = dict(answers)
        self.answered_at = now

    def reply_as_answer(self, text: str) -> dict[str, int] | None:
        """A text-channel reply that is just a number answers the first question; else None."""
        match = _BARE_NUMBER.fullmatch(text)
        if match is None:
            return None
        first = SurveyKind(self.kinds[0])
        score = int(match.group(1))
        return {first.value: score} if score in first.scale else None
