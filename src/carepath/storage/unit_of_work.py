"""The unit of work: one transaction, the repositories that act inside it, commit or roll back."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from carepath.domain.events import Event
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
from carepath.storage.repositories.rows import insert_rows

# Told, after a commit, the highest event seq each tenant reached in it (rings the doorbell),
# and the events committed (the stream's feed takes them without reading them back).
CommitHook = Callable[[dict[TenantId, int], list[Event]], Awaitable[None]]
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
        self._later: list[object] = []  # new rows for Core inserts (insert_later)
        # Set by the write batcher when this transaction runs work again after the writes of
        # its batch failed: work that a provider may repeat (ingest) looks for its copy first.
        self.rerun = False

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
                await self._insert_later_rows()
                await self.events.write_pending()
                await self.session.commit()
            # A clean read needs neither: closing ends it and keeps loaded objects usable.
        finally:
            await self.session.close()
            self._release_gate()
        if exc_type is None and self.write and self.events.appended and self._on_commit:
            await self._on_commit(dict(self.events.appended), list(self.events.written))

    def _release_gate(self) -> None:
        gate, self._write_gate = self._write_gate, None
        if gate is not None:
            gate.release()

    async def flush(self) -> None:
        """Write what waits: the rows queued by `insert_later` first (what the ORM holds may
        refer to them: a work item to its case), then the session's changes."""
        await self._insert_later_rows()
        await self.session.flush()

    def insert_later(self, *objects: object) -> None:
        """Queue new rows, written with Core at the next `flush` or at commit, before the ORM's
        own flush: one executemany per table for everything queued in the transaction (a whole
        batch of messages; storage/repositories/rows.py). Values are read then, so changes made
        meanwhile are written; a change after that would not be. The objects stay outside the
        session (read them as values; queries do not see them until written), and from here on
        the session does not autoflush: an autoflush would write rows that refer to these
        before them."""
        self._later.extend(objects)
        self.session.autoflush = False

    async def _insert_later_rows(self) -> None:
        if self._later:
            later, self._later = self._later, []
            await insert_rows(self.session, later)
