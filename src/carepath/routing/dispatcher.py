"""The persistent dispatcher: a loop that, per tenant with open work, returns expired offers to
the queue, reports SLA breaches, and gives waiting work to agents with the pure policy.

A round plans from a read-only snapshot (online agents, their load, the waiting work they could
take) with a `RoutingIndex`, then commits the decisions in short transactions that claim the rows
and check each decision again (actions/dispatch.py). Several dispatchers, in several processes,
may run at once: no item is assigned twice and no agent goes above capacity, and one that dies
mid-round leaves only rolled-back transactions and offers that expire.

Not exported from `carepath.routing` (it needs storage and actions; the pure package does not).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from carepath.actions.dispatch import Decision, commit_decisions, expire_offers, report_breaches
from carepath.actions.work import routing_of
from carepath.domain.clock import utcnow
from carepath.ids import TenantId
from carepath.routing.index import RoutingIndex
from carepath.routing.model import AgentState, ChannelKind, Presence
from carepath.routing.policy import order_work
from carepath.routing.records import seconds
from carepath.routing.tenant_rules import TenantRouting
from carepath.storage import Database, UnitOfWork
from carepath.storage.repositories.routing import TenantWork

log = logging.getLogger("carepath.dispatcher")

DEFAULT_BATCH = 50
IDLE_SLEEP_S = 0.5
HOUSEKEEPING_LIMIT = 500
# Waiting work is read in pages, in work order, until every free slot is decided on.
MIN_PAGE = 100
PAGE_PER_SLOT = 4
MAX_ERROR_BACKOFF_S = 30.0
Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Plan:
    routing: TenantRouting
    decisions: list[Decision]


class Dispatcher:
    """One dispatcher; `run_once` is a round over every tenant with open work."""

    def __init__(
        self,
        db: Database,
        *,
        name: str = "dispatcher",
        batch: int = DEFAULT_BATCH,
        idle_sleep: float = IDLE_SLEEP_S,
        clock: Clock = utcnow,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.db = db
        self.name = name
        self.batch = batch
        self.idle_sleep = idle_sleep
        self.clock = clock
        self._routing: dict[TenantId, tuple[int, TenantRouting]] = {}

    async def run_once(self, now: datetime | None = None) -> int:
        """One round; how many items changed hands or state (0: nothing to do now). `now` fixes
        the time of the round (tests and simulations)."""
        clock: Clock = self.clock if now is None else (lambda: now)
        async with self.db.uow(write=False) as uow:
            tenants = await uow.work.overview(clock())
        changed = 0
        for tenant in tenants:
            changed += await self._tenant(tenant, clock)
        return changed

    async def run(self, stop: asyncio.Event) -> None:
        """Rounds until `stop` is set; a database error is logged and waited out."""
        log.info("dispatcher %s started", self.name)
        errors = 0
        while not stop.is_set():
            try:
                changed = await self.run_once()
            except Exception:
                errors += 1
                delay = min(MAX_ERROR_BACKOFF_S, self.idle_sleep * 2 ** min(errors, 16))
                log.exception("dispatcher %s: round failed; again in %.1fs", self.name, delay)
                await _sleep_unless(stop, delay)
                continue
            errors = 0
            if changed == 0:
                await _sleep_unless(stop, self.idle_sleep)
        log.info("dispatcher %s stopped", self.name)

    async def _tenant(self, work: TenantWork, clock: Clock) -> int:
        tenant_id, now = work.tenant_id, clock()
        changed = 0
        if work.next_offer_expiry is not None and work.next_offer_expiry <= now:
            changed += await expire_offers(self.db, tenant_id, now, limit=HOUSEKEEPING_LIMIT)
        if work.next_sla_due is not None and work.next_sla_due <= now:
            changed += await report_breaches(self.db, tenant_id, now, limit=HOUSEKEEPING_LIMIT)
        if work.waiting == 0 and changed == 0:
            return changed
        plan = await self._plan(tenant_id, now)
        if plan is None:
            return changed
        for start in range(0, len(plan.decisions), self.batch):
            batch = plan.decisions[start : start + self.batch]
            committed = await commit_decisions(self.db, tenant_id, plan.routing, batch, clock)
            changed += committed.changed
        return changed

    async def _plan(self, tenant_id: TenantId, now: datetime) -> Plan | None:
        """Decide from a snapshot: work in order, each to the agent the policy picks, read a
        page at a time until nobody has room left."""
        at = seconds(now)
        async with self.db.uow(write=False) as uow:
            routing = await self._routing_for(uow, tenant_id)
            profiles = await uow.agents.online(tenant_id)
            loads = await uow.work.loads(tenant_id)
            agents = [p.state(loads.get(p.user_id, {})) for p in profiles]
            kinds = {k for a in agents for k in ChannelKind if a.has_room(k)}
            room = sum(_free(a) for a in agents)
            if room <= 0:
                return None
            skills = {s for a in agents if _free(a) for s in a.skills}
            index = RoutingIndex(routing.rules, agents, now=at)
            decisions: list[Decision] = []
            seen: set[str] = set()  # pages read at different moments may overlap
            page = max(MIN_PAGE, PAGE_PER_SLOT * room)
            offset = 0
            while len(decisions) < room:
                waiting = await uow.work.waiting(
                    tenant_id, now, skills=skills, kinds=kinds, limit=page, offset=offset
                )
                # A page is already in work order; order_work only breaks ties the same way.
                for item in order_work(w.item() for w in waiting if w.id not in seen):
                    seen.add(item.item_id)
                    agent = index.choose_agent(item, at)
                    if agent is not None:
                        index.assign(agent, item.kind, at)
                        decisions.append(Decision(item.item_id, agent))
                        if len(decisions) >= room:
                            break
                if len(waiting) < page:
                    break
                offset += page
        return Plan(routing, decisions) if decisions else None

    async def _routing_for(self, uow: UnitOfWork, tenant_id: TenantId) -> TenantRouting:
        stored = await uow.tenant_configs.current(tenant_id)
        version = stored.version if stored else 0
        cached = self._routing.get(tenant_id)
        if cached is None or cached[0] != version:
            cached = (version, await routing_of(uow, tenant_id))
            self._routing[tenant_id] = cached
        return cached[1]


class DispatcherTask:
    """A dispatcher running as a task (in the background worker); `stop` ends it."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self._stop = asyncio.Event()
        self._task = asyncio.create_task(
            dispatcher.run(self._stop), name=f"dispatcher {dispatcher.name}"
        )

    @classmethod
    def start(cls, db: Database, *, name: str) -> DispatcherTask:
        return cls(Dispatcher(db, name=name))

    async def stop(self, grace_s: float = 15.0) -> None:
        self._stop.set()
        try:
            await asyncio.wait_for(self._task, grace_s)
        except TimeoutError:
            log.warning("dispatcher %s cut short at shutdown", self.dispatcher.name)


async def serve(
    database_url: str, *, name: str = "dispatcher", idle_sleep: float = IDLE_SLEEP_S
) -> None:
    """A dispatcher on its own until SIGTERM or SIGINT (tests run several as processes)."""
    db = Database(database_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await Dispatcher(db, name=name, idle_sleep=idle_sleep).run(stop)
    finally:
        await db.dispose()


def _free(agent: AgentState) -> int:
    """Slots the agent could still take now, of any kind."""
    if agent.presence is not Presence.ONLINE:
        return 0
    by_kind = sum(max(0, agent.capacity.get(k, 0) - agent.load.get(k, 0)) for k in ChannelKind)
    return max(0, min(by_kind, agent.total_capacity - agent.total_load))


async def _sleep_unless(stop: asyncio.Event, seconds_: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds_)
