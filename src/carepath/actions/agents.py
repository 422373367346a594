"""Agents as routing sees them: skills and capacity (set by an admin, or by the tenant's
configuration file), presence (set by the agent), and the supervisor's view with their load."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from carepath.access import Permission, Principal, authorize, scoped
from carepath.domain import AuditEntry, User
from carepath.domain.clock import utcnow
from carepath.domain.events import EventType
from carepath.domain.users import normalize_email
from carepath.errors import InvalidInput, PermissionDenied
from carepath.ids import TenantId, UserId
from carepath.routing.model import ChannelKind, Presence
from carepath.routing.records import AgentProfile
from carepath.storage import Database, UnitOfWork
from carepath.tenant_config import TenantConfig
from carepath.yaml_config import Loc, parse_yaml


@dataclass(frozen=True)
class AgentView:
    """An agent with their load now (open work they hold, per channel kind)."""

    profile: AgentProfile
    user: User
    load: Mapping[ChannelKind, int]

    def idle_s(self, now: datetime) -> float:
        """Seconds since they last got work, came online or finished all they had; 0 while
        they hold work or are not online."""
        if self.profile.presence is not Presence.ONLINE or any(self.load.values()):
            return 0.0
        return max(0.0, (now - self.profile.idle_since).total_seconds())


def presence_payload(profile: AgentProfile) -> dict[str, object]:
    return {
        "user_id": profile.user_id,
        "presence": profile.presence.value,
        "since": profile.presence_changed_at.isoformat(),
    }


async def do_set_agent_profile(
    db: Database,
    actor: Principal,
    user_id: str,
    *,
    skills: Mapping[str, int],
    capacity: Mapping[str, int],
    total_capacity: int | None = None,
) -> AgentProfile:
    """Skills (proficiency 1-5) and capacity per channel kind of a user of the tenant."""
    authorize(actor, Permission.MANAGE_AGENTS)
    now = utcnow()
    async with db.uow() as uow:
        user = scoped(actor, await uow.users.get(actor.tenant_id, user_id), "user")
        profile = await _profile_for(uow, user, now)
        profile.configure(skills, capacity, total_capacity, now)
        await uow.audit.record(
            AuditEntry(
                tenant_id=actor.tenant_id,
                actor=actor.actor,
                action="agent.profile_set",
                subject=user.id,
                data={
                    "skills": profile.skills,
                    "capacity": profile.capacity,
                    "total_capacity": profile.total_capacity,
                },
            )
        )
    return profile


async def do_set_presence(db: Database, actor: Principal, presence: Presence) -> AgentProfile:
    """The signed-in agent goes online, away or offline. Work they hold stays theirs; open
    offers to them run out as usual."""
    authorize(actor, Permission.WORK_CASES)
    if actor.user_id is None:
        raise PermissionDenied("only a signed-in agent has a presence, not an API token")
    now = utcnow()
    async with db.uow() as uow:
        user = scoped(actor, await uow.users.get(actor.tenant_id, actor.user_id), "user")
        profile = await _profile_for(uow, user, now)
        if profile.set_presence(Presence(presence), now):
            await uow.flush()
            await uow.events.append(
                actor.tenant_id, EventType.AGENT_PRESENCE, presence_payload(profile)
            )
    return profile


async def sign_off(uow: UnitOfWork, tenant_id: TenantId, user_id: UserId, now: datetime) -> None:
    """An agent whose last login ended goes offline: nobody is there to take the work routing
    would offer them. Work they hold stays theirs, as when they go offline themselves."""
    if await uow.login_sessions.live_count_for_user(tenant_id, user_id, now):
        return
    await uow.work.lock_tenant_events(tenant_id)
    profile = await uow.agents.get(tenant_id, user_id, lock=True)
    if profile is not None and profile.set_presence(Presence.OFFLINE, now):
        await uow.flush()
        await uow.events.append(tenant_id, EventType.AGENT_PRESENCE, presence_payload(profile))


async def agent_views(uow: UnitOfWork, tenant_id: TenantId) -> list[AgentView]:
    profiles = await uow.agents.all(tenant_id)
    loads = await uow.work.loads(tenant_id)
    views = []
    for profile in profiles:
        user = await uow.users.get(tenant_id, profile.user_id)
        if user is not None:
            views.append(AgentView(profile, user, loads.get(profile.user_id, {})))
    return views


async def check_agents(
    uow: UnitOfWork, tenant_id: TenantId, config: TenantConfig, source: str, name: str
) -> dict[str, User]:
    """The users the file's `agents` name, by email; the file is refused whole, each unknown
    email listed with its line, when any is not a user of the tenant."""
    users: dict[str, User] = {}
    problems: list[tuple[Loc, str]] = []
    for i, agent in enumerate(config.agents):
        try:
            email = normalize_email(agent.email)
        except InvalidInput as exc:
            problems.append((("agents", i, "email"), exc.message))
            continue
        user = await uow.users.by_email(tenant_id, email)
        if user is None:
            problems.append(
                (("agents", i, "email"), f"no user {email} in this tenant; create the user first")
            )
        else:
            users[agent.email] = user
    if problems:
        # Parsing again only to word the refusal like every other error in the file.
        parse_yaml(source, TenantConfig, source=name, checks=lambda _config: problems)
    return users


async def apply_agents(
    uow: UnitOfWork,
    config: TenantConfig,
    users: Mapping[str, User],
    now: datetime,
    *,
    in_force: TenantConfig | None = None,
) -> list[UserId]:
    """Skills and capacity from the file's `agents` (see `check_agents`); presence is left as
    it is, and agents the file does not name keep theirs.

    Like `kubectl apply`, only what the file changed since the version in force (`in_force`) is
    applied: an agent's skills, or their capacity, written the same as last time keep what an
    admin set in the console since. Re-applying a file for another reason (a strategy change)
    would otherwise undo every console edit of the agents it names."""
    before = {normalize_email(agent.email): agent for agent in in_force.agents} if in_force else {}
    applied = []
    for agent in config.agents:
        last = before.get(normalize_email(agent.email))
        new_skills = last is None or last.skills != agent.skills
        new_capacity = last is None or (last.capacity, last.total_capacity) != (
            agent.capacity,
            agent.total_capacity,
        )
        user = users[agent.email]
        if not (new_skills or new_capacity):
            if await uow.agents.get(user.tenant_id, user.id) is not None:
                continue
            new_skills = new_capacity = True  # a user who has no profile yet gets the file's
        profile = await _profile_for(uow, user, now)
        profile.configure(
            agent.skills if new_skills else profile.skills,
            agent.capacity if new_capacity else profile.capacity,
            agent.total_capacity if new_capacity else profile.total_capacity,
            now,
        )
        applied.append(user.id)
    return applied


async def _profile_for(uow: UnitOfWork, user: User, now: datetime) -> AgentProfile:
    """The user's profile, locked, made on first use (no skills: routed nothing yet)."""
    # Profiles change only under the tenant's event counter (storage/repositories/routing.py).
    await uow.work.lock_tenant_events(user.tenant_id)
    profile = await uow.agents.get(user.tenant_id, user.id, lock=True)
    if profile is None:
        profile = AgentProfile(tenant_id=user.tenant_id, user_id=user.id, updated_at=now)
        uow.agents.add(profile)
    return profile
