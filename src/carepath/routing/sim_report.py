"""What a simulation measured: per queue and overall (offered, answered, abandoned, ASA, service
level, occupancy) and per agent (occupancy, utilisation)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class QueueTally:
    """Counts for contacts that arrived after the warm-up; handle time clipped to the window."""

    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    answered_in_time: int = 0
    wait_answered_s: float = 0.0
    handle_s: float = 0.0

    def add(self, other: QueueTally) -> None:
        self.offered += other.offered
        self.answered += other.answered
        self.abandoned += other.abandoned
        self.answered_in_time += other.answered_in_time
        self.wait_answered_s += other.wait_answered_s
        self.handle_s += other.handle_s


@dataclass(slots=True)
class AgentTally:
    group: str
    staffed_s: float = 0.0
    busy_s: float = 0.0
    load_share_s: float = 0.0
    handled: int = 0


@dataclass(frozen=True, slots=True)
class QueueReport:
    """`service_level` is the share of offered contacts answered within `sl_seconds` (abandoned
    and unanswered ones count as missed); `asa_s` the mean wait of answered contacts;
    `occupancy` the handle time on this queue over the staffed time of agents with its skill."""

    queue: str
    offered: int
    answered: int
    abandoned: int
    unanswered: int
    abandonment_rate: float
    asa_s: float | None
    service_level: float | None
    sl_seconds: float
    occupancy: float | None

    @classmethod
    def of(cls, queue: str, tally: QueueTally, sl_seconds: float, staffed_s: float) -> QueueReport:
        offered = tally.offered
        return cls(
            queue=queue,
            offered=offered,
            answered=tally.answered,
            abandoned=tally.abandoned,
            unanswered=offered - tally.answered - tally.abandoned,
            abandonment_rate=tally.abandoned / offered if offered else 0.0,
            asa_s=tally.wait_answered_s / tally.answered if tally.answered else None,
            service_level=tally.answered_in_time / offered if offered else None,
            sl_seconds=sl_seconds,
            occupancy=tally.handle_s / staffed_s if staffed_s else None,
        )


@dataclass(frozen=True, slots=True)
class AgentReport:
    """`occupancy`: share of staffed time with at least one contact; `utilisation`: average
    share of total capacity in use while staffed (the same for one-call-at-a-time agents)."""

    agent_id: str
    group: str
    handled: int
    staffed_hours: float
    occupancy: float | None
    utilisation: float | None

    @classmethod
    def of(cls, agent_id: str, tally: AgentTally) -> AgentReport:
        staffed = tally.staffed_s
        return cls(
            agent_id=agent_id,
            group=tally.group,
            handled=tally.handled,
            staffed_hours=staffed / 3600.0,
            occupancy=tally.busy_s / staffed if staffed else None,
            utilisation=tally.load_share_s / staffed if staffed else None,
        )


@dataclass(frozen=True, slots=True)
class SimulationReport:
    seed: int
    duration_hours: float
    warmup_hours: float
    events: int
    overall: QueueReport
    queues: list[QueueReport] = field(default_factory=list)
    agents: list[AgentReport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
