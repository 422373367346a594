"""Surveys after resolution: sent on the case's channel, answered once, on the contact."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from carepath.domain.cases import Case
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Contact
from carepath.domain.events import EventType
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.outbox import OutboxItem
from carepath.domain.surveys import Survey
from carepath.domain.tenants import Tenant
from carepath.errors import NotFound
from carepath.storage import Database, UnitOfWork

DELIVER_SURVEY = "deliver_survey"


async def send_survey(
    uow: UnitOfWork, tenant: Tenant, case: Case, contact: Contact | None, now: datetime
) -> Survey:
    """Part of resolving a case: runs inside the resolving transaction."""
    survey = Survey.send(
        tenant_id=tenant.id,
        case_id=case.id,
        customer_id=case.customer_id,
        channel=case.channel,
        contact_id=contact.id if contact else None,
        kinds=tenant.survey_kinds,
        now=now,
    )
    uow.surveys.add(survey)
    await uow.flush()
    uow.outbox.add(
        OutboxItem(tenant_id=tenant.id, kind=DELIVER_SURVEY, payload={"survey_id": survey.id})
    )
    await uow.events.append(
        tenant.id,
        EventType.SURVEY_SENT,
        {
            "survey_id": survey.id,
            "case_id": case.id,
            "customer_id": case.customer_id,
            "channel": survey.channel.value,
            "kinds": survey.kinds,
        },
    )
    return survey


async def record_answer(
    uow: UnitOfWork, survey: Survey, answers: Mapping[str, int], now: datetime
) -> None:
    """Answer inside an open transaction (a signed link, or a number replied by SMS)."""
    survey.answer(answers, now)
    if survey.contact_id is not None:
        contact = await uow.contacts.get(survey.tenant_id, survey.contact_id)
        if contact is not None:
            contact.rate(csat=answers.get("csat"), nps=answers.get("nps"), ces=answers.get("ces"))
    uow.journey.add(
        JourneyEvent.record(
            tenant_id=survey.tenant_id,
            customer_id=survey.customer_id,
            type=JourneyEventType.SURVEY,
            name="survey_answered",
            channel=survey.channel,
            case_id=survey.case_id,
            contact_id=survey.contact_id,
            properties=dict(answers),
            now=now,
        )
    )
    await uow.events.append(
        survey.tenant_id,
        EventType.SURVEY_ANSWERED,
        {
            "survey_id": survey.id,
            "case_id": survey.case_id,
            "customer_id": survey.customer_id,
            "answers": dict(answers),
        },
    )


async def do_answer_survey(db: Database, survey_id: str, answers: Mapping[str, int]) -> Survey:
    """From a signed survey link: the caller has verified the signature naming `survey_id`."""
    now = utcnow()
    async with db.uow() as uow:
        survey = await uow.surveys.get_unscoped(survey_id)
        if survey is None:
            raise NotFound("survey not found", kind="survey")
        await record_answer(uow, survey, answers, now)
    return survey
