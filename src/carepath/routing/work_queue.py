"""Queued work indexed for "what should this agent take next?": per skill, channel kind and the
proficiency an item asks for right now, a heap in work order. Items move between heaps as they
wait (widening, fallback, the end of a sticky hold) on timers, so a free agent only peeks at the
heaps it qualifies for."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import replace
from heapq import heapify, heappop, heappush
from typing import Any

from carepath.errors import Conflict, NotFound
from carepath.ids import UserId
from carepath.routing.agent_pools import KIND_INDEX, KINDS, LEVELS, AgentRecord
from carepath.routing.model import RoutingRules, WorkItem
from carepath.routing.sla import SlaBreach

# (-priority, sla due, enqueued_at, item_id, version): heap order is work order.
WorkEntry = tuple[Any, ...]
Levels = list[list[list[WorkEntry]]]  # [kind][required proficiency] -> heap
HolderOf = Callable[[WorkItem, float], UserId | None]


class QueuedItem:
    """A queued item and where it sits now: the bar it asks for, whether its fallback skill is
    open, and the agent it is held for."""

    __slots__ = ("bar", "fallback_open", "holder", "item", "serial", "version")

    def __init__(self, item: WorkItem, serial: int) -> None:
        self.item = item
        self.serial = serial
        self.version = 0
        self.bar = 0
        self.fallback_open = False
        self.holder: UserId | None = None


def _levels() -> Levels:
    return [[[] for _ in range(LEVELS)] for _ in KINDS]


class WorkQueue:
    def __init__(self, rules: RoutingRules, holder_of: HolderOf) -> None:
        self.rules = rules
        self.items: dict[str, QueuedItem] = {}
        self.clock = float("-inf")
        self._holder_of = holder_of
        # Waits at which an item is restaged, by (has a preferred agent, has a fallback skill).
        self._offsets = {
            (sticky, fallback): rules.change_offsets(sticky=sticky, fallback=fallback)
            for sticky in (False, True)
            for fallback in (False, True)
        }
        self._serial = itertools.count(1)
        self._primary: dict[str, Levels] = {}
        self._fallback: dict[str, Levels] = {}
        self._held: dict[UserId, list[WorkEntry]] = {}
        self._preferring: dict[UserId, set[str]] = {}
        self._timers: list[tuple[float, str, int]] = []
        self._dues: list[tuple[float, str, int]] = []
        self._pushes = 0
        self._compact_at = 4096

    def __iter__(self) -> Iterator[QueuedItem]:
        return iter(self.items.values())

    def advance(self, now: float) -> float:
        """Move the clock to `now` (never back) and restage items whose requirements changed."""
        if now < self.clock:
            return self.clock
        self.clock = now
        timers = self._timers
        while timers and timers[0][0] <= now:
            _, item_id, version = heappop(timers)
            queued = self.items.get(item_id)
            if queued is not None and queued.version == version:
                self.stage(queued)
        return now

    def enqueue(self, item: WorkItem, now: float) -> None:
        if item.item_id in self.items:
            raise Conflict(f"work item {item.item_id} is already queued", item_id=item.item_id)
        self.advance(now)
        queued = QueuedItem(item, next(self._serial))
        self.items[item.item_id] = queued
        if item.preferred_agent_id is not None:
            self._preferring.setdefault(item.preferred_agent_id, set()).add(item.item_id)
        if item.sla_due_at is not None and not item.sla_breached:
            heappush(self._dues, (item.sla_due_at, item.item_id, queued.serial))
        self.stage(queued)

    def remove(self, item_id: str) -> WorkItem:
        queued = self.items.pop(item_id, None)
        if queued is None:
            raise NotFound(f"work item {item_id} is not queued", item_id=item_id)
        preferred = queued.item.preferred_agent_id
        if preferred is not None:
            waiting = self._preferring[preferred]
            waiting.discard(item_id)
            if not waiting:
                del self._preferring[preferred]
        return queued.item

    def restage_preferring(self, agent_id: UserId) -> None:
        """The agent's presence changed: items that prefer them may start or stop waiting."""
        for item_id in self._preferring.get(agent_id, ()):
            self.stage(self.items[item_id])

    def stage(self, queued: QueuedItem) -> None:
        """(Re)file the item by what it asks for at the current clock."""
        item, rules, now = queued.item, self.rules, self.clock
        queued.version = version = next(self._serial)
        entry = (*item.order_key(), version)
        queued.holder = self._holder_of(item, now)
        queued.bar = rules.min_proficiency_at(item.enqueued_at, now)
        queued.fallback_open = rules.fallback_open_at(item.enqueued_at, now)
        k = KIND_INDEX[item.kind]
        if queued.holder is not None:
            heappush(self._held.setdefault(queued.holder, []), entry)
        else:
            heappush(self.levels(item.skill, fallback=False)[k][queued.bar], entry)
            if queued.fallback_open and item.fallback_skill is not None:
                heappush(self.levels(item.fallback_skill, fallback=True)[k][queued.bar], entry)
        offsets = self._offsets[
            item.preferred_agent_id is not None, item.fallback_skill is not None
        ]
        for offset in offsets:
            if item.enqueued_at + offset > now:
                heappush(self._timers, (item.enqueued_at + offset, item.item_id, version))
                break
        self._pushes += 3
        if self._pushes > self._compact_at:
            self.compact()

    def levels(self, skill: str, *, fallback: bool) -> Levels:
        by_skill = self._fallback if fallback else self._primary
        levels = by_skill.get(skill)
        if levels is None:
            levels = by_skill[skill] = _levels()
        return levels

    def watch_list(self, agent: AgentRecord) -> list[list[list[WorkEntry]]]:
        """Per kind, the heaps holding work this agent's skills qualify for."""
        watch: list[list[list[WorkEntry]]] = [[] for _ in KINDS]
        for skill, proficiency in agent.skills.items():
            for fallback in (False, True):
                levels = self.levels(skill, fallback=fallback)
                for k in range(len(KINDS)):
                    watch[k].extend(levels[k][1 : proficiency + 1])
        return watch

    def best_for(self, agent: AgentRecord) -> WorkItem | None:
        """The first item in work order that the agent may take (they must be online)."""
        if agent.total_load >= agent.total_capacity:
            return None
        best: WorkEntry | None = self._best_held(agent) if self._held else None
        items, agent_id = self.items, agent.agent_id
        for k in range(len(KINDS)):
            if agent.load[k] >= agent.capacity[k]:
                continue
            for heap in agent.watch[k]:
                if not heap:
                    continue
                top = heap[0]
                # Nothing in a heap whose top (live or stale) comes after the best so far can win.
                if best is not None and top >= best:
                    continue
                queued = items.get(top[3])
                if (
                    queued is None
                    or queued.version != top[4]
                    or agent_id in queued.item.declined_by
                ):
                    found = self._top(heap, agent_id)
                    if found is None or (best is not None and found >= best):
                        continue
                    top = found
                best = top
        return None if best is None else items[best[3]].item

    def _best_held(self, agent: AgentRecord) -> WorkEntry | None:
        heap = self._held.get(agent.agent_id)
        if not heap:
            return None
        items = self.items
        live = [e for e in heap if (q := items.get(e[3])) is not None and q.version == e[4]]
        if len(live) < len(heap):
            heap[:] = live
            heapify(heap)
        for entry in sorted(live):
            queued = items[entry[3]]
            if agent.has_room(KIND_INDEX[queued.item.kind]) and _qualifies(agent, queued):
                return entry
        return None

    def _top(self, heap: list[WorkEntry], agent_id: UserId) -> WorkEntry | None:
        """The first live entry the agent has not declined; stale entries are dropped."""
        items = self.items
        skipped: list[WorkEntry] = []
        found: WorkEntry | None = None
        while heap:
            entry = heap[0]
            queued = items.get(entry[3])
            if queued is None or queued.version != entry[4]:
                heappop(heap)
            elif agent_id in queued.item.declined_by:
                skipped.append(heappop(heap))
            else:
                found = entry
                break
        for entry in skipped:
            heappush(heap, entry)
        return found

    def pop_breaches(self, now: float) -> list[SlaBreach]:
        """Queued items whose SLA came due by `now`, each reported once (and marked)."""
        now = self.advance(now)
        breaches: list[SlaBreach] = []
        while self._dues and self._dues[0][0] <= now:
            due, item_id, serial = heappop(self._dues)
            queued = self.items.get(item_id)
            if queued is None or queued.serial != serial or queued.item.sla_breached:
                continue
            queued.item = replace(queued.item, sla_breached=True)
            breaches.append(SlaBreach(item_id, queued.item.queue_name, due, now))
        return breaches

    def compact(self) -> None:
        items = self.items

        def live(entry: WorkEntry) -> bool:
            queued = items.get(entry[3])
            return queued is not None and queued.version == entry[4]

        kept = 0
        heaps = [
            h for lv in (*self._primary.values(), *self._fallback.values()) for hs in lv for h in hs
        ]
        for heap in (*heaps, *self._held.values()):
            if heap:
                heap[:] = [e for e in heap if live(e)]
                heapify(heap)
                kept += len(heap)
        self._timers = [t for t in self._timers if (q := items.get(t[1])) and q.version == t[2]]
        heapify(self._timers)
        self._dues = [d for d in self._dues if (q := items.get(d[1])) and q.serial == d[2]]
        heapify(self._dues)
        self._held = {a: h for a, h in self._held.items() if h}
        self._pushes = 0
        self._compact_at = max(4096, 3 * (kept + len(self._timers)))


def _qualifies(agent: AgentRecord, queued: QueuedItem) -> bool:
    item = queued.item
    if agent.skills.get(item.skill, 0) >= queued.bar:
        return True
    fallback = item.fallback_skill
    return (
        queued.fallback_open
        and fallback is not None
        and agent.skills.get(fallback, 0) >= queued.bar
    )
