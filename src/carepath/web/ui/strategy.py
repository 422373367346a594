"""The contact strategy map as a matrix of intents by channels, every field of every cell
editable (treatment, skill, priority, SLA; the intent's flags on its own row; the defaults and
per-channel defaults on the first row). Saved through the same validation as the YAML file: the
form becomes a new configuration document applied with `do_apply_tenant_config`, so its errors
are the file's errors, keys included."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, Request, Response

from carepath.access import Permission, authorize
from carepath.actions.tenant_config import current_config, do_apply_tenant_config
from carepath.domain.cases import Priority
from carepath.errors import InvalidInput
from carepath.tenant_config import TenantConfig, Treatment, TreatmentKind, treatment_for
from carepath.web.deps import DB
from carepath.web.ui.common import UiRoute, Viewer, current_viewer, render, see_other

router = APIRouter(prefix="/app/supervisor", route_class=UiRoute, include_in_schema=False)
CurrentViewer = Annotated[Viewer, Depends(current_viewer)]
SOURCE_NAME = "strategy matrix"
FIELDS = ("treatment", "skill", "priority", "sla_seconds")
FLAGS = ("sales_opportunity", "moment_of_truth")
SCOPES = ("defaults", "chdef.", "row.", "cell.")


@dataclass(frozen=True)
class Cell:
    """One cell of the matrix: its form names are `{scope}.{field}`, its errors `{loc}.{field}`."""

    scope: str
    loc: str
    values: Mapping[str, str]
    effective: Treatment | None = None
    flags: bool = False  # an intent's own row also carries its flags

    def name(self, field: str) -> str:
        return f"{self.scope}.{field}"


@dataclass(frozen=True)
class MatrixRow:
    intent: str | None  # None: the defaults row
    own: Cell
    cells: list[Cell]


def _values(row: Any, sent: Mapping[str, str] | None, scope: str, flags: bool) -> dict[str, str]:
    """The cell as set in the configuration (blank: inherited), or as the form sent it."""
    names = (*FIELDS, *FLAGS) if flags else FIELDS
    if sent is not None:
        return {f: sent.get(f"{scope}.{f}", "") for f in names}
    found: dict[str, Any] = row.model_dump(mode="json") if row is not None else {}
    values = {f: "" if found.get(f) is None else str(found[f]) for f in FIELDS}
    if flags:
        values.update({f: "true" if found.get(f) else "" for f in FLAGS})
    return values


def matrix(config: TenantConfig, sent: Mapping[str, str] | None = None) -> list[MatrixRow]:
    strategy = config.strategy
    defaults = Cell(
        "defaults", "strategy.defaults", _values(strategy.defaults, sent, "defaults", False)
    )
    rows = [
        MatrixRow(
            None,
            defaults,
            [
                Cell(
                    f"chdef.{c.value}",
                    f"strategy.channel_defaults.{c.value}",
                    _values(strategy.channel_defaults.get(c), sent, f"chdef.{c.value}", False),
                    treatment_for(config, None, c),
                )
                for c in config.channels
            ],
        )
    ]
    for intent in [i.name for i in config.intents]:
        row = strategy.intents.get(intent)
        loc = f"strategy.intents.{intent}"
        cells = [
            Cell(
                f"cell.{intent}.{c.value}",
                f"{loc}.channels.{c.value}",
                _values(
                    row.channels.get(c) if row else None, sent, f"cell.{intent}.{c.value}", False
                ),
                treatment_for(config, intent, c),
            )
            for c in config.channels
        ]
        own = Cell(f"row.{intent}", loc, _values(row, sent, f"row.{intent}", True), flags=True)
        rows.append(MatrixRow(intent, own, cells))
    return rows


def edited(config: TenantConfig, sent: Mapping[str, str]) -> str:
    """The configuration as YAML with every cell of the matrix replaced by the form's."""
    document: dict[str, Any] = config.model_dump(mode="json", exclude_none=True)
    strategy: dict[str, Any] = document.setdefault("strategy", {})
    rows = matrix(config, sent)
    strategy["defaults"] = _cell(rows[0].own)
    by_channel = strategy.setdefault("channel_defaults", {})
    for cell in rows[0].cells:
        _put(by_channel, cell.scope.removeprefix("chdef."), _cell(cell))
    intents: dict[str, Any] = strategy.setdefault("intents", {})
    for row in rows[1:]:
        assert row.intent is not None
        kept = intents.get(row.intent, {}).get("channels", {})
        channels = {c: v for c, v in kept.items() if c not in {x.value for x in config.channels}}
        for cell in row.cells:
            _put(channels, cell.scope.rsplit(".", 1)[1], _cell(cell))
        entry = _cell(row.own)
        if channels:
            entry["channels"] = channels
        _put(intents, row.intent, entry)
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def _cell(cell: Cell) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in FIELDS:
        value = cell.values.get(field, "").strip()
        if value:
            # Numbers as numbers; anything else as sent, for the schema to name what is wrong.
            out[field] = int(value) if field == "sla_seconds" and value.isdigit() else value
    if cell.flags:
        for flag in FLAGS:
            if cell.values.get(flag):
                out[flag] = True
    return out


def _put(target: dict[str, Any], key: str, value: dict[str, Any]) -> None:
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
        "priorities": [p.value for p in Priority],
        "skills": config.skills,
        "version": stored.version if stored else 0,
        "errors": errors or [],
        "invalid": {str(e.get("loc", "")) for e in errors or []},
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
    sent = {k: str(v) for k, v in form.items() if k.startswith(SCOPES)}
    async with db.uow(write=False) as uow:
        config = await current_config(uow, viewer.principal.tenant_id)
    try:
        await do_apply_tenant_config(db, viewer.principal, edited(config, sent), name=SOURCE_NAME)
    except InvalidInput as exc:
        errors = list(exc.data.get("errors") or [{"loc": "", "line": None, "message": exc.message}])
        return await _page(request, db, viewer, sent=sent, errors=errors)
    return see_other("/app/supervisor/strategy?saved=true")
