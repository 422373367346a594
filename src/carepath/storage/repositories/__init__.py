"""Repositories: the queries the actions and the read side need, every one scoped by tenant."""

from carepath.storage.repositories.access import (
    ApiTokenRepository,
    LoginSessionRepository,
    UserRepository,
)
from carepath.storage.repositories.agents import AgentRepository
from carepath.storage.repositories.articles import ArticleRepository, SearchRecordRepository
from carepath.storage.repositories.audit import AuditRepository
from carepath.storage.repositories.base import Page
from carepath.storage.repositories.callbacks import CallbackRepository, CallRepository
from carepath.storage.repositories.cases import (
    CaseFilter,
    CaseRepository,
    ContactRepository,
    JourneyRepository,
    MessageRepository,
    SurveyRepository,
)
from carepath.storage.repositories.customers import (
    ChannelAccountRepository,
    CustomerRepository,
    IdentityRepository,
    MergeRepository,
)
from carepath.storage.repositories.events import (
    EventRepository,
    OutboxRepository,
    WebhookRepository,
)
from carepath.storage.repositories.routing import WorkRepository
from carepath.storage.repositories.tenants import TenantConfigRepository, TenantRepository

__all__ = [
    "AgentRepository",
    "ApiTokenRepository",
    "ArticleRepository",
    "AuditRepository",
    "CallRepository",
    "CallbackRepository",
    "CaseFilter",
    "CaseRepository",
    "ChannelAccountRepository",
    "ContactRepository",
    "CustomerRepository",
    "EventRepository",
    "IdentityRepository",
    "JourneyRepository",
    "LoginSessionRepository",
    "MergeRepository",
    "MessageRepository",
    "OutboxRepository",
    "Page",
    "SearchRecordRepository",
    "SurveyRepository",
    "TenantConfigRepository",
    "TenantRepository",
    "UserRepository",
    "WebhookRepository",
    "WorkRepository",
]
