"""The caller's own tenant and its audit trail."""

from __future__ import annotations

from fastapi import APIRouter, Query

from carepath.access import Permission, authorize
from carepath.errors import NotFound
from carepath.web.deps import DB, CurrentPrincipal, Cursor, Limit
from carepath.web.schemas import AuditOut, PageOut, TenantOut

router = APIRouter(prefix="/v1", tags=["tenant"])


@router.get("/tenant", summary="The caller's tenant", response_model=TenantOut)
async def get_tenant(principal: CurrentPrincipal, db: DB) -> TenantOut:
    authorize(principal, Permission.READ_TENANT)
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.get(principal.tenant_id)
    if tenant is None:  # deleted while the caller still held a credential
        raise NotFound("tenant not found")
    return TenantOut.of(tenant)


@router.get("/audit", summary="The audit trail (admin)", response_model=PageOut[AuditOut])
async def list_audit(
    principal: CurrentPrincipal,
    db: DB,
    limit: Limit = 50,
    cursor: Cursor = None,
    subject: str | None = Query(default=None, description="Only entries about this object id."),
) -> PageOut[AuditOut]:
    authorize(principal, Permission.READ_AUDIT)
    async with db.uow(write=False) as uow:
        page = await uow.audit.list(
            principal.tenant_id, limit=limit, cursor=cursor, subject=subject
        )
    return PageOut[AuditOut](
        items=[AuditOut.of(e) for e in page.items], next_cursor=page.next_cursor
    )
