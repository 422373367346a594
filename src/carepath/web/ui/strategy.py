"""The contact strategy map as a matrix of intents by channels, edited through the same validation
as the YAML file: the form becomes a new configuration document applied with
`do_apply_tenant_config`, so its errors are the file's errors, keys included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request, Response

from carepath.access import Permission, authorize
from carepath.actions.tenant_config import current_config, do_apply_tenant_config
from carepath.errors import InvalidInput
from carepath.tenant_config import TenantConfig, TreatmentKind, treatment_for
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render, see_other

router = APIRouter(prefix="/app/supervisor", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
SOURCE_NAME = "strategy matrix"


def cell_field(intent: str, channel: str) -> str:
    return f"cell.{intent}.{channel}"


def row_field(intent: str) -> str:
    return f"row.{intent}"


def matrix(config: TenantConfig, sent: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per declared intent: its own treatment and each channel's, as set (blank:
    inherited) and in effect."""
    rows = []
    for intent in [i.name for i in config.intents]:
        strategy = config.strategy.intents.get(intent)
        own = strategy.treatment.value if strategy and strategy.treatment else ""
        cells = []
        for channel in config.channels:
            row = strategy.channels.get(channel) if strategy else None
            value = row.treatment.value if row and row.treatment else ""
            name = cell_field(intent, channel.value)
            cells.append(
                {
                    "channel": channel.value,
                    "field": name,
                    "value": sent.get(name, value) if sent is not None else value,
                    "effective": treatment_for(config, intent, channel),
                }
            )
        field = row_field(intent)
        rows.append(
            {
                "intent": intent,
                "field": field,
                "value": sent.get(field, own) if sent is not None else own,
                "flags": strategy,
                "cells": cells,
            }
        )
    return rows


def edited(config: TenantConfig, sent: Mapping[str, str]) -> str:
    """The configuration as YAML with the matrix's treatments replaced by the form's."""
    document: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    intents: dict[str, Any] = document.setdefault("strategy", {}).setdefault("intents", {})
    for intent in [i.name for i in config.intents]:
        row = intents.setdefault(intent, {})
        _set(row, "treatment", sent.get(row_field(intent), ""))
        channels = row.setdefault("channels", {})
        for channel in config.channels:
            cell = channels.setdefault(channel.value, {})
            _set(cell, "treatment", sent.get(cell_field(intent, channel.value), ""))
            if not cell:
                del channels[channel.value]
        if not channels:
            del row["channels"]
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _set(target: dict[str, Any], key: str, value: str) -> None:
    if value:
        target[key] = value
    else:
        target.pop(key, None)


async def _page(
    request: Request,
    db: DB,
    viewer: Viewer,
    *,
    sent: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    saved: bool = False,
) -> Response:
    async with db.uow(write=False) as uow:
        stored = await uow.tenant_configs.current(viewer.principal.tenant_id)
        config = await current_config(uow, viewer.principal.tenant_id)
    context = {
        "viewer": viewer,
        "rows": matrix(config, sent),
        "channels": [c.value for c in config.channels],
        "treatments": [t.value for t in TreatmentKind],
        "version": stored.version if stored else 0,
        "errors": errors or [],
        "saved": saved,
        "may_edit": viewer.can(Permission.MANAGE_TENANT_CONFIG),
    }
    return render(request, "ui/strategy.html", context, status=422 if errors else 200)


@router.get("/strategy")
async def strategy_page(
    request: Request, db: DB, viewer: CurrentViewer, saved: bool = False
) -> Response:
    authorize(viewer.principal, Permission.SUPERVISE)
    return await _page(request, db, viewer, saved=saved)


@router.post("/strategy")
async def save_strategy(request: Request, db: DB, viewer: CurrentViewer) -> Response:
    authorize(viewer.principal, Permission.SUPERVISE)
    authorize(viewer.principal, Permission.MANAGE_TENANT_CONFIG)
    form = await request.form()
    sent = {k: str(v) for k, v in form.items() if k.startswith(("cell.", "row."))}
    async with db.uow(write=False) as uow:
        config = await current_config(uow, viewer.principal.tenant_id)
    try:
        await do_apply_tenant_config(db, viewer.principal, edited(config, sent), name=SOURCE_NAME)
    except InvalidInput as exc:
        errors = list(exc.data.get("errors") or [{"loc": "", "line": None, "message": exc.message}])
        return await _page(request, db, viewer, sent=sent, errors=errors)
    return see_other("/app/supervisor/strategy?saved=true")
