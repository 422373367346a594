"""Personal data: export and erase a customer (admin), fetch an exported attachment, and the
access trail of a case (supervisor)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import FileResponse
from pydantic import BaseModel

from carepath.access import Permission, authorize, scoped
from carepath.actions.personal_data import (
    ErasureCounts,
    do_erase_customer,
    do_export_customer,
)
from carepath.errors import NotFound
from carepath.privacy import customer_file
from carepath.storage.files import AttachmentStore
from carepath.storage.repositories.personal_data import PersonalDataRepository
from carepath.web.deps import DB, AppSettings, CurrentPrincipal, Cursor, Limit
from carepath.web.schemas import PageOut

router = APIRouter(prefix="/v1", tags=["personal data"])
_SHA256 = re.compile(r"[0-9a-f]{64}")


class ErasureOut(BaseModel):
    customer_id: str
    customer_ids: list[str]
    already_erased: bool
    counts: dict[str, int]


class CaseAccessOut(BaseModel):
    id: str
    case_id: str
    actor: str
    action: str
    detail: str | None
    at: datetime


@router.get(
    "/customers/{customer_id}/export",
    summary="Everything about a customer and those merged with them, as JSON (admin)",
)
async def export_customer(customer_id: str, principal: CurrentPrincipal, db: DB) -> dict[str, Any]:
    return await do_export_customer(db, principal, customer_id)


@router.get(
    "/customers/{customer_id}/attachments/{sha256}",
    summary="The contents of one of the customer's stored files (admin)",
    response_class=FileResponse,
)
async def customer_attachment(
    customer_id: str, sha256: str, principal: CurrentPrincipal, db: DB, settings: AppSettings
) -> FileResponse:
    authorize(principal, Permission.EXPORT_PERSONAL_DATA)
    async with db.uow(write=False) as uow:
        owned = _SHA256.fullmatch(sha256) and await customer_file(
            uow, principal, customer_id, sha256
        )
    path = AttachmentStore(settings.data_dir / "attachments").path(sha256) if owned else None
    if path is None or not path.exists():
        raise NotFound("attachment not found", kind="attachment")
    return FileResponse(path, media_type="application/octet-stream", filename=sha256)


@router.post(
    "/customers/{customer_id}/erase",
    summary="Erase a customer's personal data (right to erasure; admin; idempotent)",
    response_model=ErasureOut,
)
async def erase_customer(
    customer_id: str, principal: CurrentPrincipal, db: DB, settings: AppSettings
) -> ErasureOut:
    store = AttachmentStore(settings.data_dir / "attachments")
    erasure = await do_erase_customer(db, principal, customer_id, store=store)
    return ErasureOut(
        customer_id=erasure.customer_id,
        customer_ids=list(erasure.customer_ids),
        already_erased=erasure.already_erased,
        counts=_counts(erasure.counts),
    )


@router.get(
    "/cases/{case_id}/audit",
    summary="Who read or changed a case, newest first (supervisor)",
    response_model=PageOut[CaseAccessOut],
)
async def case_audit(
    case_id: str, principal: CurrentPrincipal, db: DB, limit: Limit = 50, cursor: Cursor = None
) -> PageOut[CaseAccessOut]:
    authorize(principal, Permission.READ_CASE_AUDIT)
    async with db.uow(write=False) as uow:
        scoped(principal, await uow.cases.get(principal.tenant_id, case_id), "case")
        rows, next_cursor = await PersonalDataRepository(uow.session).case_trail(
            principal.tenant_id, case_id, limit=limit, cursor=cursor
        )
    return PageOut[CaseAccessOut](
        items=[CaseAccessOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


def _counts(counts: ErasureCounts) -> dict[str, int]:
    return {name: int(value) for name, value in vars(counts).items()}
