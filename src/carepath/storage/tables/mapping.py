"""The imperative mapping of the domain dataclasses onto the tables: the domain stays free of
SQLAlchemy."""

from __future__ import annotations

from sqlalchemy.orm import registry

from carepath.domain import ApiToken, AuditEntry, LoginSession, Tenant, User
from carepath.domain.assistant import AssistantTurn
from carepath.domain.callbacks import Callback
from carepath.domain.calls import Call
from carepath.domain.cases import Case
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Contact
from carepath.domain.customers import Customer, CustomerMerge
from carepath.domain.events import Event
from carepath.domain.identities import Identity
from carepath.domain.journey import JourneyEvent
from carepath.domain.messages import Message
from carepath.domain.outbox import OutboxItem
from carepath.domain.surveys import Survey
from carepath.domain.tenant_configs import TenantConfigVersion
from carepath.domain.webhooks import WebhookEndpoint
from carepath.knowledge.articles import Article
from carepath.knowledge.gaps import SearchRecord
from carepath.routing.records import AgentProfile, WorkRecord
from carepath.storage.tables.accounts import (
    api_tokens,
    audit_log,
    channel_accounts,
    login_sessions,
    tenant_configs,
    tenants,
    users,
)

# Deterministic constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
from carepath.storage.tables.base import metadata
from carepath.storage.tables.conversations import (
    callbacks,
    calls,
    cases,
    contacts,
    customer_merges,
    customers,
    identities,
    journey_events,
    messages,
    surveys,
)
from carepath.storage.tables.stream import (
    events,
    outbox,
    webhook_endpoints,
)
from carepath.storage.tables.work import (
    agent_profiles,
    articles,
    assistant_turns,
    kb_searches,
    work_items,
)

mapper_registry = registry(metadata=metadata)
_mapped = False


def map_domain() -> None:
    """Map the domain dataclasses onto the tables once per process (idempotent)."""
    global _mapped
    if _mapped:
        return
    mapper_registry.map_imperatively(Tenant, tenants)
    mapper_registry.map_imperatively(User, users)
    mapper_registry.map_imperatively(LoginSession, login_sessions)
    mapper_registry.map_imperatively(ApiToken, api_tokens)
    mapper_registry.map_imperatively(AuditEntry, audit_log)
    mapper_registry.map_imperatively(Event, events)
    mapper_registry.map_imperatively(OutboxItem, outbox)
    mapper_registry.map_imperatively(WebhookEndpoint, webhook_endpoints)
    mapper_registry.map_imperatively(Customer, customers)
    mapper_registry.map_imperatively(Identity, identities)
    mapper_registry.map_imperatively(CustomerMerge, customer_merges)
    mapper_registry.map_imperatively(Case, cases)
    mapper_registry.map_imperatively(Contact, contacts)
    mapper_registry.map_imperatively(Message, messages)
    mapper_registry.map_imperatively(JourneyEvent, journey_events)
    mapper_registry.map_imperatively(Survey, surveys)
    mapper_registry.map_imperatively(ChannelAccount, channel_accounts)
    mapper_registry.map_imperatively(TenantConfigVersion, tenant_configs)
    mapper_registry.map_imperatively(Callback, callbacks)
    mapper_registry.map_imperatively(Call, calls)
    mapper_registry.map_imperatively(AgentProfile, agent_profiles)
    mapper_registry.map_imperatively(WorkRecord, work_items)
    mapper_registry.map_imperatively(Article, articles)
    mapper_registry.map_imperatively(SearchRecord, kb_searches)
    mapper_registry.map_imperatively(AssistantTurn, assistant_turns)
    _mapped = True
