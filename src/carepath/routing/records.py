"""What routing stores: an agent's profile (skills, capacity, presence) and a work item (a case or a
callback waiting for, offered to or held by an agent), with their guarded status changes. Both turn
into the pure model (`AgentState`, `WorkItem`) for the policy to decide on."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from carepath.domain.clock import utcnow
from carepath.errors import Conflict, IllegalTransition, InvalidInput
from carepath.ids import CaseId, TenantId, UserId, new_id
from carepath.routing import offers
from carepath.routing.model import (
    MAX_PROFICIENCY,
    MIN_PROFICIENCY,
    AgentState,
    ChannelKind,
    Presence,
    WorkItem,
)

MAX_CAPACITY = 50
DEFAULT_CAPACITY: Mapping[str, int] = {"messaging": 3, "voice": 1}


def seconds(at: datetime) -> float:
    """Routing's clock (POSIX seconds) from a stored time."""
    return at.timestamp()


def instant(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


class WorkKind(enum.StrEnum):
    CASE = "case"
    CALLBACK = "callback"


class WorkStatus(enum.StrEnum):
    """waiting -> offered -> assigned -> done; offered -> waiting (declined, timed out);
    waiting or offered -> assigned (auto-accept, or an agent took the case); any open status ->
    cancelled (nobody needs to do it any more)."""

    WAITING = "waiting"
    OFFERED = "offered"
    ASSIGNED = "assigned"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self in OPEN


OPEN = frozenset({WorkStatus.WAITING, WorkStatus.OFFERED, WorkStatus.ASSIGNED})
# An open offer holds a slot of the agent's capacity, as an assignment does.
HOLDING = frozenset({WorkStatus.OFFERED, WorkStatus.ASSIGNED})


def check_skills(skills: Mapping[str, int]) -> dict[str, int]:
    clean = {}
    for name, level in skills.items():
        if not name or len(name) > 60:
            raise InvalidInput("a skill name is 1-60 characters", field=f"skills.{name}")
        if not MIN_PROFICIENCY <= int(level) <= MAX_PROFICIENCY:
            raise InvalidInput(
                f"proficiency is {MIN_PROFICIENCY}-{MAX_PROFICIENCY}, not {level}",
                field=f"skills.{name}",
            )
        clean[str(name)] = int(level)
    return clean


def check_capacity(capacity: Mapping[str, int]) -> dict[str, int]:
    clean = {}
    for kind, slots in capacity.items():
        if kind not in set(ChannelKind):
            raise InvalidInput("capacity is given per messaging or voice", field=f"capacity.{kind}")
        if not 0 <= int(slots) <= MAX_CAPACITY:
            raise InvalidInput(f"capacity is 0-{MAX_CAPACITY}", field=f"capacity.{kind}")
        clean[str(kind)] = int(slots)
    return clean


@dataclass(eq=False)
class AgentProfile:
    """A user who takes routed work. Their load is not stored: it is the open work they hold
    (see `HOLDING`), counted while this row is locked, so it cannot drift."""

    tenant_id: TenantId
    user_id: UserId
    skills: dict[str, int] = field(default_factory=dict)
    capacity: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPACITY))
    total_capacity: int = 3
    presence: Presence = Presence.OFFLINE
    presence_changed_at: datetime = field(default_factory=utcnow)
    # When they last got work, came online, or went back to no work at all.
    idle_since: datetime = field(default_factory=utcnow)
    last_assigned_at: datetime | None = None
    updated_at: datetime = field(default_factory=utcnow)

    def configure(
        self,
        skills: Mapping[str, int],
        capacity: Mapping[str, int],
        total_capacity: int | None,
        now: datetime,
    ) -> None:
        """Replace skills and capacity; the total defaults to the sum of the per-kind slots."""
        self.skills = check_skills(skills)
        self.capacity = check_capacity(capacity)
        total = sum(self.capacity.values()) if total_capacity is None else int(total_capacity)
        if not 0 <= total <= 2 * MAX_CAPACITY:
            raise InvalidInput(f"total capacity is 0-{2 * MAX_CAPACITY}", field="total_capacity")
        self.total_capacity = total
        self.updated_at = now

    def set_presence(self, presence: Presence, now: datetime) -> bool:
        """True if it changed. Coming online starts the idle clock afresh."""
        presence = Presence(presence)
        if presence is self.presence:
            return False
        if presence is Presence.ONLINE:
            self.idle_since = now
        self.presence = presence
        self.presence_changed_at = now
        self.updated_at = now
        return True

    def took_work(self, now: datetime) -> None:
        self.idle_since = now
        self.last_assigned_at = now

    def state(self, load: Mapping[ChannelKind, int]) -> AgentState:
        return AgentState(
            agent_id=self.user_id,
            skills=self.skills,
            capacity={ChannelKind(k): v for k, v in self.capacity.items()},
            total_capacity=self.total_capacity,
            load=load,
            presence=self.presence,
            idle_since=seconds(self.idle_since),
            last_assigned_at=(
                float("-inf") if self.last_assigned_at is None else seconds(self.last_assigned_at)
            ),
        )


@dataclass(eq=False)
class WorkRecord:
    """A case or a callback that needs an agent. `enqueued_at` is when it may first be routed
    (a scheduled callback's time); widening and sticky holds count from then."""

    tenant_id: TenantId
    kind: WorkKind
    subject_id: str  # the case id, or the callback id
    case_id: CaseId
    skill: str
    channel_kind: ChannelKind
    enqueued_at: datetime
    priority: int = 1
    sla_due_at: datetime | None = None
    fallback_skill: str | None = None
    queue: str | None = None
    preferred_agent_id: UserId | None = None
    declined_by: list[str] = field(default_factory=list)
    status: WorkStatus = WorkStatus.WAITING
    offered_to: UserId | None = None
    offer_expires_at: datetime | None = None
    assigned_to: UserId | None = None
    assigned_at: datetime | None = None
    finished_at: datetime | None = None
    sla_breached: bool = False
    id: str = field(default_factory=lambda: new_id("work"))
    created_at: datetime = field(default_factory=utcnow)

    @property
    def holder(self) -> UserId | None:
        """The agent whose capacity it takes: offered to, or assigned to."""
        if self.status is WorkStatus.OFFERED:
            return self.offered_to
        if self.status is WorkStatus.ASSIGNED:
            return self.assigned_to
        return None

    def item(self) -> WorkItem:
        return WorkItem(
            item_id=self.id,
            skill=self.skill,
            kind=self.channel_kind,
            enqueued_at=seconds(self.enqueued_at),
            priority=self.priority,
            sla_due_at=None if self.sla_due_at is None else seconds(self.sla_due_at),
            preferred_agent_id=self.preferred_agent_id,
            fallback_skill=self.fallback_skill,
            declined_by=frozenset(UserId(a) for a in self.declined_by),
            queue=self.queue,
            sla_breached=self.sla_breached,
        )

    def offer(self, agent_id: UserId, now: datetime, timeout_s: float) -> None:
        self._require(WorkStatus.WAITING, "be offered")
        if agent_id in self.declined_by:
            raise InvalidInput(f"agent {agent_id} already refused {self.id}", work_id=self.id)
        self.status = WorkStatus.OFFERED
        self.offered_to = agent_id
        self.offer_expires_at = instant(seconds(now) + timeout_s)

    def accept(self, agent_id: UserId, now: datetime) -> None:
        """The offered agent takes it; refused once the offer has expired."""
        offer = self._open_offer(agent_id)
        offers.accept(self.item(), offer, seconds(now))
        self._assign(agent_id, now)

    def decline(self, agent_id: UserId) -> None:
        """Back to the queue, keeping its age, never to be offered to this agent again."""
        offer = self._open_offer(agent_id)
        self._requeue(offers.decline(self.item(), offer))

    def time_out(self, now: datetime) -> None:
        """An offer left unanswered past its expiry counts as declined."""
        if self.status is not WorkStatus.OFFERED or self.offered_to is None:
            raise IllegalTransition(f"work {self.id} is {self.status}, not offered")
        self._requeue(
            offers.on_timeout(self.item(), self._open_offer(self.offered_to), now=seconds(now))
        )

    def assign(self, agent_id: UserId, now: datetime) -> None:
        """Straight to an agent: auto-accept, or an agent who took the case themselves."""
        if self.status not in (WorkStatus.WAITING, WorkStatus.OFFERED):
            raise IllegalTransition(f"work {self.id} is {self.status}; it cannot be assigned")
        self._assign(agent_id, now)

    def retarget(
        self, *, skill: str, fallback_skill: str | None, queue: str | None, priority: int
    ) -> None:
        """Waiting work of a case whose intent or priority changed asks for the new treatment's
        skill and priority; its age and SLA promise stay, so the customer keeps their place."""
        self._require(WorkStatus.WAITING, "be retargeted")
        self.skill, self.fallback_skill, self.queue = skill, fallback_skill, queue
        self.priority = priority

    def transfer(self, agent_id: UserId) -> None:
        self._require(WorkStatus.ASSIGNED, "be transferred")
        self.assigned_to = agent_id

    def finish(self, now: datetime) -> None:
        """Done if someone had it, cancelled if nobody did."""
        if not self.status.is_open:
            return
        self.status = (
            WorkStatus.DONE if self.status is WorkStatus.ASSIGNED else WorkStatus.CANCELLED
        )
        self.offered_to = None
        self.offer_expires_at = None
        self.finished_at = now

    def breach(self) -> None:
        self.sla_breached = True

    def _assign(self, agent_id: UserId, now: datetime) -> None:
        self.status = WorkStatus.ASSIGNED
        self.assigned_to = agent_id
        self.assigned_at = now
        self.offered_to = None
        self.offer_expires_at = None

    def _requeue(self, item: WorkItem) -> None:
        self.declined_by = sorted(item.declined_by)
        self.status = WorkStatus.WAITING
        self.offered_to = None
        self.offer_expires_at = None

    def _open_offer(self, agent_id: UserId) -> offers.Offer:
        if (
            self.status is not WorkStatus.OFFERED
            or self.offered_to != agent_id
            or self.offer_expires_at is None
        ):
            raise Conflict(
                f"work {self.id} is not offered to you (it is {self.status})",
                code="not_offered",
                work_id=self.id,
            )
        expires = seconds(self.offer_expires_at)
        # offered_at is not stored; the expiry is all the pure offer rules look at.
        return offers.Offer(self.id, agent_id, self.channel_kind, expires, expires)

    def _require(self, status: WorkStatus, verb: str) -> None:
        if self.status is not status:
            raise IllegalTransition(
                f"only {status} work can {verb}; {self.id} is {self.status}", work_id=self.id
            )
