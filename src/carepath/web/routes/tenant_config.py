"""The tenant's configuration and contact strategy map, readable and replaceable as YAML."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel

from carepath.access import Permission, authorize
from carepath.actions.tenant_config import current_config, do_apply_tenant_config
from carepath.domain.contacts import Channel
from carepath.errors import InvalidInput
from carepath.tenant_config import treatment_for
from carepath.web.deps import DB, CurrentPrincipal

router = APIRouter(prefix="/v1/tenant", tags=["tenant"])
MAX_CONFIG_BYTES = 512 * 1024


class ConfigOut(BaseModel):
    version: int
    config: dict[str, Any]


class TreatmentOut(BaseModel):
    intent: str | None
    channel: Channel
    treatment: str
    skill: str
    priority: str
    sla_seconds: int
    sales_opportunity: bool
    moment_of_truth: bool
    source: list[str]


@router.get("/config", summary="The configuration in force (defaults if none was applied)")
async def get_config(principal: CurrentPrincipal, db: DB) -> ConfigOut:
    authorize(principal, Permission.READ_TENANT_CONFIG)
    async with db.uow(write=False) as uow:
        stored = await uow.tenant_configs.current(principal.tenant_id)
        config = await current_config(uow, principal.tenant_id)
    return ConfigOut(version=stored.version if stored else 0, config=config.model_dump(mode="json"))


@router.put(
    "/config",
    summary="Apply a configuration file (YAML body); refused whole with every error listed",
    openapi_extra={
        "requestBody": {"content": {"application/yaml": {"schema": {"type": "string"}}}}
    },
)
async def put_config(request: Request, principal: CurrentPrincipal, db: DB) -> ConfigOut:
    body = await request.body()
    if len(body) > MAX_CONFIG_BYTES:
        raise InvalidInput(
            f"a configuration file is at most {MAX_CONFIG_BYTES} bytes", field="body"
        )
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise InvalidInput("the configuration must be UTF-8 text", field="body") from exc
    applied = await do_apply_tenant_config(db, principal, text, name="request body")
    return ConfigOut(version=applied.version, config=applied.config.model_dump(mode="json"))


@router.get("/strategy", summary="How an intent is served on a channel, and which rows decided it")
async def get_treatment(
    principal: CurrentPrincipal, db: DB, channel: Channel, intent: str | None = None
) -> TreatmentOut:
    authorize(principal, Permission.READ_TENANT_CONFIG)
    async with db.uow(write=False) as uow:
        config = await current_config(uow, principal.tenant_id)
    treatment = treatment_for(config, intent, channel)
    return TreatmentOut(
        intent=intent,
        channel=channel,
        treatment=treatment.kind.value,
        skill=treatment.skill,
        priority=treatment.priority.value,
        sla_seconds=treatment.sla_seconds,
        sales_opportunity=treatment.sales_opportunity,
        moment_of_truth=treatment.moment_of_truth,
        source=list(treatment.source),
    )
