"""do_ingest_inbound: the single entry for every customer message, from every channel."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError, IntegrityError

from carepath.actions.ingest_preload import preload_for_ingest
from carepath.actions.payloads import (
    case_payload,
    contact_payload,
    customer_payload,
    message_payload,
)
from carepath.actions.surveys import record_answer
from carepath.actions.work import route_new_message
from carepath.domain.assistant import ASSISTANT_TURN
from carepath.domain.cases import Case, CaseStatus
from carepath.domain.contacts import Contact, Handler
from carepath.domain.customers import Customer
from carepath.domain.events import EventType
from carepath.domain.identities import Identity
from carepath.domain.journey import JourneyEvent, JourneyEventType
from carepath.domain.messages import AuthorKind, Direction, InboundMessage, Message
from carepath.domain.outbox import OutboxItem
from carepath.domain.tenants import Tenant
from carepath.errors import NotFound
from carepath.storage import Database, UnitOfWork
from carepath.storage.conflicts import is_transient_conflict

# Concurrent first messages from one new sender race on the identity and message unique keys;
# the loser retries and finds what the winner stored.
MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class IngestResult:
    message: Message
    case: Case
    customer: Customer
    contact: Contact | None  # None for a survey answer, which starts no contact
    duplicate: bool  # a provider retry: nothing was written
    new_case: bool
    new_customer: bool


async def do_ingest_inbound(
    db: Database, inbound: InboundMessage, *, tenant: Tenant | None = None
) -> IngestResult:
    """Store a customer's message in ONE transaction, idempotent on (tenant, channel, external id):
    resolve or create the customer, thread into their open case across channels (explicit
    references win) or open one, open or continue the contact, store the message, record the
    journey event and the stream events. `tenant`: the message's tenant as the caller read it
    (a webhook route has; it may be a few seconds old, web/webhook_accounts.py), which saves
    reading it again."""
    if tenant is not None and tenant.id != inbound.tenant_id:
        raise AssertionError("the tenant given is not the message's")
    for attempt in range(1, MAX_ATTEMPTS + 1):

        async def work(uow: UnitOfWork, find_duplicate: bool = attempt > 1) -> IngestResult:
            return await _ingest(uow, inbound, tenant, find_duplicate=find_duplicate)

        try:
            # Micro-batched: messages arriving while a transaction is open share the next one,
            # their rows written together at its end, each answered after that commit
            # (storage/write_batches). The first attempt leaves the duplicate check to the
            # messages' unique key: a provider retry fails there, and its batch runs again as a
            # rerun, which looks first (or, alone, the next attempt does) and replays it. One read
            # fewer for every message that is not a retry. Keyed by the sender: one customer's
            # messages never share a batch, nor sit in two open transactions.
            return await db.batched(
                work,
                key=(inbound.tenant_id, inbound.sender),
                preload=(preload_for_ingest, inbound),
            )
        except DBAPIError as exc:
            # Also a deadlock victim: batches run side by side on PostgreSQL and may touch the
            # same customers' cases in opposite orders. Its writes were undone; run it again.
            retry = isinstance(exc, IntegrityError) or is_transient_conflict(exc)
            if attempt == MAX_ATTEMPTS or not retry:
                raise
    raise AssertionError("unreachable")


async def _ingest(
    uow: UnitOfWork, inbound: InboundMessage, tenant: Tenant | None, *, find_duplicate: bool
) -> IngestResult:
    tenant = tenant or await uow.tenants.get(inbound.tenant_id)
    if tenant is None:
        raise NotFound("tenant not found", kind="tenant")
    if (find_duplicate or uow.rerun) and inbound.external_id:
        stored = await uow.messages.by_external_id(tenant.id, inbound.channel, inbound.external_id)
        if stored is not None:
            return await _replay(uow, tenant, stored)
    now = inbound.received_at
    customer, new_customer = await _resolve_customer(uow, tenant, inbound)
    case, new_case, survey_answer = await _thread(uow, tenant, customer, new_customer, inbound)
    if not survey_answer:
        await route_new_message(uow, case, new_case=new_case, now=now, new_customer=new_customer)
    # A survey answer is part of the finished contact, not a new one (it would count as a repeat).
    contact = None if survey_answer else await _contact(uow, tenant, case, new_case, inbound)
    message = Message.create(
        tenant_id=tenant.id,
        case_id=case.id,
        customer_id=customer.id,
        contact_id=contact.id if contact else None,
        channel=inbound.channel,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        text=inbound.text,
        external_id=inbound.external_id,
        attachments=inbound.attachments,
        properties=inbound.properties,
        now=now,
    )
    journey = (
        None
        if contact is None
        else JourneyEvent.record(
            tenant_id=tenant.id,
            customer_id=customer.id,
            type=JourneyEventType.MESSAGE,
            name=f"{inbound.channel.value}_message",
            channel=inbound.channel,
            occurred_at=now,
            case_id=case.id,
            contact_id=contact.id,
            now=now,
        )
    )
    # New rows (here, and the customer, identities, case and contact above) are Core inserts
    # at the end of the transaction, one statement per table for its whole batch; a provider
    # retry fails there, on the messages' unique key. No read here needs them (or this
    # message's other changes) written first: from the first one on, and in a shared batch
    # throughout, the session does not autoflush; the reads look up what existed before.
    uow.insert_later(message, *([journey] if journey else []))
    await uow.events.append(tenant.id, EventType.MESSAGE_CREATED, message_payload(message))
    if contact is not None and case.status is CaseStatus.BOT and inbound.channel.is_digital:
        # The assistant answers after this commit, in the worker (docs/subsystems/assistant.md).
        payload = {"message_id": message.id}
        uow.outbox.add(OutboxItem(tenant_id=tenant.id, kind=ASSISTANT_TURN, payload=payload))
    return IngestResult(
        message=message,
        case=case,
        customer=customer,
        contact=contact,
        duplicate=False,
        new_case=new_case,
        new_customer=new_customer,
    )


async def _replay(uow: UnitOfWork, tenant: Tenant, stored: Message) -> IngestResult:
    case = await uow.cases.get(tenant.id, stored.case_id)
    customer = await uow.customers.get(tenant.id, stored.customer_id)
    contact = await uow.contacts.get(tenant.id, stored.contact_id) if stored.contact_id else None
    if case is None or customer is None:
        raise AssertionError(f"message {stored.id} refers to a missing case, customer or contact")
    return IngestResult(
        message=stored,
        case=case,
        customer=customer,
        contact=contact,
        duplicate=True,
        new_case=False,
        new_customer=False,
    )


async def _resolve_customer(
    uow: UnitOfWork, tenant: Tenant, inbound: InboundMessage
) -> tuple[Customer, bool]:
    """The customer behind the sender identity (the live one, after merges), or a new one.
    Other identities the message carries (an email's display address, a verified app id) are
    linked to that customer when nobody owns them yet."""
    owner: Customer | None = None
    unknown = []
    for ref in inbound.identities:
        # The identity with its customer in one read; a merged customer's survivor in a second.
        found = await uow.identities.find_with_owner(tenant.id, ref.kind, ref.value)
        if found is None:
            unknown.append(ref)
        elif owner is None:
            owner = await uow.customers.live_of(found[1])
    created = owner is None
    if owner is None:
        traits = {"name": inbound.sender_name} if inbound.sender_name else None
        owner = Customer.create(tenant.id, traits=traits, now=inbound.received_at)
        # Written at the end, before what refers to it (the foreign-key order; the ORM, without
        # relationships, would order mappers by class name); a new case once, already queued.
        uow.insert_later(owner)
        await uow.events.append(tenant.id, EventType.CUSTOMER_CREATED, customer_payload(owner))
    elif owner.name is None and inbound.sender_name:
        owner.apply_traits({"name": inbound.sender_name}, inbound.received_at)
    for ref in unknown:
        verified = inbound.sender_verified and ref == inbound.sender
        uow.insert_later(
            Identity(
                tenant_id=tenant.id,
                customer_id=owner.id,
                kind=ref.kind,
                value=ref.value,
                verified=verified,
                created_at=inbound.received_at,
            )
        )
    return owner, created


async def _thread(
    uow: UnitOfWork, tenant: Tenant, customer: Customer, new_customer: bool, inbound: InboundMessage
) -> tuple[Case, bool, bool]:
    """The case this message belongs to; whether it is new; whether the message answers a
    survey (then the case stays resolved)."""
    now = inbound.received_at
    # A customer created in this transaction has no merged customers and no cases yet.
    cluster = (
        [customer.id] if new_customer else await uow.customers.cluster_ids(tenant.id, customer.id)
    )
    case = await _explicit_case(uow, tenant, inbound, cluster)
    if case is None and not new_customer:
        case = await uow.cases.latest_for_customers(tenant.id, cluster)
    if case is not None and await _answers_survey(uow, case, inbound):
        return case, False, True  # "5" after "how did we do?" is an answer, not a new problem
    if case is not None and case.may_continue(now, tenant.reopen_window):
        if not case.is_open:
            case.reopen(now)
            await uow.events.append(tenant.id, EventType.CASE_REOPENED, case_payload(case))
        elif case.on_customer_message(now):
            await uow.events.append(tenant.id, EventType.CASE_UPDATED, case_payload(case))
        if case.channel != inbound.channel:
            case.move_to_channel(inbound.channel, now)
        case.updated_at = now
        return case, False, False
    case = Case.open(
        tenant.id,
        customer.id,
        inbound.channel,
        segment=customer.segment,
        subject=_subject(inbound),
        now=now,
    )
    uow.insert_later(case)  # routing may still queue it: its values are read at the end
    await uow.events.append(tenant.id, EventType.CASE_CREATED, case_payload(case))
    return case, True, False


def _subject(inbound: InboundMessage) -> str | None:
    """An email's subject (in its properties) names the case it opens."""
    subject = inbound.properties.get("subject")
    return subject if isinstance(subject, str) else None


async def _answers_survey(uow: UnitOfWork, case: Case, inbound: InboundMessage) -> bool:
    if case.is_open:
        return False
    survey = await uow.surveys.latest_open(case.tenant_id, case.id, inbound.received_at)
    if survey is None or survey.channel != inbound.channel:
        return False
    answers = survey.reply_as_answer(inbound.text)
    if answers is None:
        return False
    await record_answer(uow, survey, answers, inbound.received_at)
    return True


async def _explicit_case(
    uow: UnitOfWork, tenant: Tenant, inbound: InboundMessage, cluster: Sequence[str]
) -> Case | None:
    """A case the message itself points at: the widget's case id, or a reply's references.
    A case id must belong to this customer; a reference to one of our own messages proves the
    thread by itself (a customer may answer an email from another address)."""
    if inbound.case_id is not None:
        case = await uow.cases.get(tenant.id, inbound.case_id)
        if case is not None and case.customer_id in cluster:
            return case
    if inbound.thread_refs:
        referenced = await uow.messages.referenced(tenant.id, inbound.thread_refs)
        if referenced is not None:
            return await uow.cases.get(tenant.id, referenced.case_id)
    return None


async def _contact(
    uow: UnitOfWork, tenant: Tenant, case: Case, new_case: bool, inbound: InboundMessage
) -> Contact:
    now = inbound.received_at
    # A case opened in this transaction has no contacts yet.
    contact = (
        None if new_case else await uow.contacts.latest_open(tenant.id, case.id, inbound.channel)
    )
    if contact is not None and contact.is_active(now, tenant.contact_gap):
        contact.touch(now)
        return contact
    if contact is not None:
        contact.close(contact.last_activity_at)
    # While the case is in the bot stage the assistant handles the contact; routing hands it on.
    handler = Handler.ASSISTANT if case.status is CaseStatus.BOT else Handler.AGENT
    contact = Contact.start(
        tenant.id, case.customer_id, case.id, inbound.channel, handled_by=handler, now=now
    )
    uow.insert_later(contact)
    await uow.events.append(tenant.id, EventType.CONTACT_STARTED, contact_payload(contact))
    return contact
