"""The relational schema (SQLAlchemy Core), one module per area, and its mapping onto the domain.

Everything is re-exported: `from carepath.storage.tables import cases` works for every table.
"""

from carepath.storage.tables.accounts import (
    api_tokens,
    audit_log,
    channel_accounts,
    imap_cursors,
    login_sessions,
    tenant_configs,
    tenants,
    users,
)
from carepath.storage.tables.base import ID, metadata, str_enum
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
from carepath.storage.tables.delivery import early_delivery_statuses
from carepath.storage.tables.mapping import map_domain, mapper_registry
from carepath.storage.tables.privacy import case_audit
from carepath.storage.tables.stream import (
    event_counters,
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

__all__ = [
    "ID",
    "agent_profiles",
    "api_tokens",
    "articles",
    "assistant_turns",
    "audit_log",
    "callbacks",
    "calls",
    "case_audit",
    "cases",
    "channel_accounts",
    "contacts",
    "customer_merges",
    "customers",
    "early_delivery_statuses",
    "event_counters",
    "events",
    "identities",
    "imap_cursors",
    "journey_events",
    "kb_searches",
    "login_sessions",
    "map_domain",
    "mapper_registry",
    "messages",
    "metadata",
    "outbox",
    "str_enum",
    "surveys",
    "tenant_configs",
    "tenants",
    "users",
    "webhook_endpoints",
    "work_items",
]
