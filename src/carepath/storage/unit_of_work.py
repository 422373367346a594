"""The unit of work: one transaction, the repositories that act inside it, commit or roll back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import TracebackType

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession

from carepath.ids import TenantId
from carepath.storage.repositories import (
    AgentRepository,
    ApiTokenRepository,
    ArticleRepository,
    AuditRepository,
    CallbackRepository,
    CallRepository,
    CaseRepository,
    ChannelAccountRepository,
    ContactRepository,
    CustomerRepository,
    EventRepository,
    IdentityRepository,
    JourneyRepository,
    LoginSessionRepository,
    MergeRepository,
    MessageRepository,
    OutboxRepository,
    SearchRecordRepository,
    SurveyRepository,
    TenantConfigRepository,
    TenantRepository,
    UserRepository,
    WebhookRepository,
    WorkRepository,
)
from carepath.storage.repositories.assistant import AssistantTurnRepository
from carepath.storage.repositories.rows import insert_now

# Told, after a commit, the highest event seq each tenant reached in it (rings the doorbell).
CommitHook = Callable[[dict[TenantId, int]], Awaitable[None]]
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}


class UnitOfWork:
    """`async with db.uow() as uow:` commits when the block ends normally, rolls back otherwise."""

    session: AsyncSession
    tenants: TenantRepository
    users: UserRepository
    login_sessions: LoginSessionRepository
    api_tokens: ApiTokenRepository
    audit: AuditRepository
    events: EventRepository
    outbox: OutboxRepository
    webhooks: WebhookRepository
    customers: CustomerRepository
    identities: IdentityRepository
    merges: MergeRepository
    cases: CaseRepository
    contacts: ContactRepository
    messages: MessageRepository
    journey: JourneyRepository
    surveys: SurveyRepository
    channel_accounts: ChannelAccountRepository
    tenant_configs: TenantConfigRepository
    callbacks: CallbackRepository
    calls: CallRepository
    articles: ArticleRepository
    kb_searches: SearchRecordRepository
    agents: AgentRepository
    work: WorkRepository
    assistant_turns: AssistantTurnRepository

    def __init__(
        self,
        session_factory: Callable[[], AsyncSession],
        *,
        write: bool,
        is_sqlite: bool,
        on_commit: CommitHook | None = None,
        write_gate: asyncio.Lock | None = None,
        autocommit: bool = False,
    ) -> None:
        if autocommit and write:
            raise ValueError("only a read runs outside a transaction")
        self._session_factory = session_factory
        self.write = write
        self.autocommit = autocommit
        self.is_sqlite = is_sqlite
        self._on_commit = on_commit
        self._write_gate = write_gate

    async def __aenter__(self) -> UnitOfWork:
        if self._write_gate is not None:
            await self._write_gate.acquire()
        try:
            self.session = self._session_factory()
            if self.autocommit:
                # SQLite: our begin hook (storage/database.py) then emits no BEGIN.
                options = {"carepath_write": None} if self.is_sqlite else AUTOCOMMIT
                await self.session.connection(execution_options=options)
            elif self.is_sqlite:
                await self.session.connection(execution_options={"carepath_write": self.write})
        except BaseException:
            self._release_gate()
            raise
        self.tenants = TenantRepository(self.session)
        self.users = UserRepository(self.session)
        self.login_sessions = LoginSessionRepository(self.session)
        self.api_tokens = ApiTokenRepository(self.session)
        self.audit = AuditRepository(self.session)
        self.events = EventRepository(self.session)
        self.outbox = OutboxRepository(self.session)
        self.webhooks = WebhookRepository(self.session)
        self.customers = CustomerRepository(self.session)
        self.identities = IdentityRepository(self.session)
        self.merges = MergeRepository(self.session)
        self.cases = CaseRepository(self.session)
        self.contacts = ContactRepository(self.session)
        self.messages = MessageRepository(self.session)
        self.journey = JourneyRepository(self.session)
        self.surveys = SurveyRepository(self.session)
        self.channel_accounts = ChannelAccountRepository(self.session)
        self.tenant_configs = TenantConfigRepository(self.session)
        self.callbacks = CallbackRepository(self.session)
        self.calls = CallRepository(self.session)
        self.articles = ArticleRepository(self.session)
        self.kb_searches = SearchRecordRepository(self.session)
        self.agents = AgentRepository(self.session)
        self.work = WorkRepository(self.session)
        self.assistant_turns = AssistantTurnRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is not None:
                await self.session.rollback()
            elif self.write:
                await self.events.write_pending()
                await self.session.commit()
            # A clean read needs neither: closing ends it and keeps loaded objects usable.
        finally:
            await self.session.close()
            self._release_gate()
        if exc_type is None and self.write and self.events.appended and self._on_commit:
            await self._on_commit(dict(self.events.appended))

    def _release_gate(self) -> None:
        gate, self._write_gate = self._write_gate, None
        if gate is not None:
            gate.release()

    async def flush(self) -> None:
        await self.session.flush()

    async def insert_now(self, *objects: object) -> None:
        """Write new objects that this transaction will not change again with one Core INSERT
        each, after flushing what they refer to (storage/repositories/rows.py): the hot path's
        way round the ORM flush. They stay readable, outside the session."""
        await insert_now(self.session, *objects)

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A SAVEPOINT: an exception in the block undoes only the block's writes (the ORM
        forgets objects added in it and expires those it changed)."""
        async with self.session.begin_nested():
            yield

    async def reload_expired(self) -> None:
        """Reload what a rolled-back savepoint expired, so objects that callers of the rest of
        the transaction hold stay readable after it commits and the session closes."""
        for obj in list(self.session.identity_map.values()):
            if inspect(obj).expired_attributes:
                await self.session.refresh(obj)
