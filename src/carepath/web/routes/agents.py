"""Agents for routing: their own presence, skills and capacity (admin), and the supervisor's view
of who is online, how loaded and how long idle."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from carepath.access import Permission, authorize
from carepath.actions.agents import AgentView, agent_views, do_set_agent_profile, do_set_presence
from carepath.domain.clock import utcnow
from carepath.errors import PermissionDenied
from carepath.routing.model import ChannelKind, Presence
from carepath.routing.records import AgentProfile
from carepath.types import Role
from carepath.web.deps import DB, CurrentPrincipal
from carepath.web.schemas import Request

router = APIRouter(prefix="/v1/agents", tags=["agents"])


class PresenceIn(Request):
    presence: Presence


class PresenceOut(BaseModel):
    user_id: str
    presence: Presence
    since: datetime | None = Field(description="When the presence last changed.")

    @classmethod
    def of(cls, profile: AgentProfile) -> PresenceOut:
        return cls(
            user_id=profile.user_id,
            presence=profile.presence,
            since=profile.presence_changed_at,
        )


class ProfileIn(Request):
    skills: dict[str, int] = Field(
        default_factory=dict, description="Skill name → proficiency 1-5."
    )
    capacity: dict[ChannelKind, int] = Field(
        default_factory=lambda: {ChannelKind.MESSAGING: 3, ChannelKind.VOICE: 1},
        description="Work held at once per channel kind.",
    )
    total_capacity: int | None = Field(
        default=None, description="Across kinds; the sum of `capacity` when left out."
    )


class ProfileOut(BaseModel):
    user_id: str
    skills: dict[str, int]
    capacity: dict[str, int]
    total_capacity: int

    @classmethod
    def of(cls, profile: AgentProfile) -> ProfileOut:
        return cls(
            user_id=profile.user_id,
            skills=profile.skills,
            capacity=profile.capacity,
            total_capacity=profile.total_capacity,
        )


class AgentOut(ProfileOut):
    email: str
    display_name: str
    role: Role
    presence: Presence
    presence_changed_at: datetime
    load: dict[str, int] = Field(description="Open work held now per channel kind.")
    idle_s: float = Field(description="Seconds online with no work; 0 while busy or not online.")
    last_assigned_at: datetime | None

    @classmethod
    def view(cls, agent: AgentView, now: datetime) -> AgentOut:
        profile = agent.profile
        return cls(
            user_id=profile.user_id,
            email=agent.user.email,
            display_name=agent.user.display_name,
            role=agent.user.role,
            skills=profile.skills,
            capacity=profile.capacity,
            total_capacity=profile.total_capacity,
            presence=profile.presence,
            presence_changed_at=profile.presence_changed_at,
            load={kind.value: agent.load.get(kind, 0) for kind in ChannelKind},
            idle_s=round(agent.idle_s(now), 3),
            last_assigned_at=profile.last_assigned_at,
        )


@router.get("", summary="Agents with presence, load and idle time (supervisor)")
async def list_agents(principal: CurrentPrincipal, db: DB) -> list[AgentOut]:
    authorize(principal, Permission.READ_AGENTS)
    async with db.uow(write=False) as uow:
        views = await agent_views(uow, principal.tenant_id)
    now = utcnow()
    return [AgentOut.view(v, now) for v in views]


@router.get("/me/presence", summary="Your presence")
async def get_presence(principal: CurrentPrincipal, db: DB) -> PresenceOut:
    authorize(principal, Permission.WORK_CASES)
    if principal.user_id is None:
        raise PermissionDenied("only a signed-in agent has a presence, not an API token")
    async with db.uow(write=False) as uow:
        profile = await uow.agents.get(principal.tenant_id, principal.user_id)
    if profile is None:
        return PresenceOut(user_id=principal.user_id, presence=Presence.OFFLINE, since=None)
    return PresenceOut.of(profile)


@router.put("/me/presence", summary="Go online, away or offline")
async def put_presence(body: PresenceIn, principal: CurrentPrincipal, db: DB) -> PresenceOut:
    return PresenceOut.of(await do_set_presence(db, principal, body.presence))


@router.put("/{user_id}/profile", summary="Set a user's skills and capacity (admin)")
async def put_profile(
    user_id: str, body: ProfileIn, principal: CurrentPrincipal, db: DB
) -> ProfileOut:
    profile = await do_set_agent_profile(
        db,
        principal,
        user_id,
        skills=body.skills,
        capacity={k.value: v for k, v in body.capacity.items()},
        total_capacity=body.total_capacity,
    )
    return ProfileOut.of(profile)
