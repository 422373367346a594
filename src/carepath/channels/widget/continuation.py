"""A "continue in chat" link: texted to a caller's phone, its short-lived signed token opens the
widget on their case as the phone's customer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from carepath.channels.widget.session import Visitor, VisitorSession, resolve
from carepath.domain.contacts import Channel
from carepath.domain.tenants import Tenant
from carepath.errors import AuthenticationRequired
from carepath.ids import CaseId, TenantId
from carepath.storage import Database

CONTINUE_LIFETIME = timedelta(minutes=30)
CONTINUE_SALT = "carepath.continue-in-chat"


@dataclass(frozen=True)
class Continuation:
    tenant_id: TenantId
    case_id: CaseId
    phone: str


def continuation_token(secret: str, continuation: Continuation) -> str:
    payload = [continuation.tenant_id, continuation.case_id, continuation.phone]
    return str(URLSafeTimedSerializer(secret, salt=CONTINUE_SALT).dumps(payload))


def continue_link(public_url: str, slug: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/t/{quote(slug)}/continue?token={token}"


def read_continuation(secret: str, token: str) -> Continuation:
    """The link's content, or AuthenticationRequired with reason `continue_expired` (older than
    CONTINUE_LIFETIME) or `invalid_continue_token` (forged, altered or not ours)."""
    serializer = URLSafeTimedSerializer(secret, salt=CONTINUE_SALT)
    try:
        value = serializer.loads(token, max_age=int(CONTINUE_LIFETIME.total_seconds()))
        tenant_id, case_id, phone = value
        return Continuation(TenantId(str(tenant_id)), CaseId(str(case_id)), str(phone))
    except SignatureExpired as exc:
        raise AuthenticationRequired(
            "this link has expired: links to continue in chat work for "
            f"{int(CONTINUE_LIFETIME.total_seconds() // 60)} minutes",
            reason="continue_expired",
        ) from exc
    except (BadSignature, TypeError, ValueError) as exc:
        raise AuthenticationRequired(
            "this is not a valid link to continue in chat", reason="invalid_continue_token"
        ) from exc


async def open_continued_session(
    db: Database, tenant: Tenant, *, visitor_id: str, channel: Channel, token: str, secret: str
) -> Visitor:
    """The handshake with a link's token: the phone's customer, on the link's case, which must
    still be theirs (merges followed). Holding the token proves the phone: the text went there,
    whatever number the caller claimed."""
    continuation = read_continuation(secret, token)
    if continuation.tenant_id != tenant.id:
        raise AuthenticationRequired(
            "this is not a valid link to continue in chat", reason="invalid_continue_token"
        )
    session = VisitorSession(
        tenant.id,
        visitor_id,
        channel,
        phone=continuation.phone,
        case_id=continuation.case_id,
    )
    async with db.uow(write=False) as uow:
        visitor = await resolve(uow, session)
        case = await uow.cases.get(tenant.id, continuation.case_id)
    if case is None or case.customer_id not in visitor.cluster:
        raise AuthenticationRequired(
            "the conversation of this link is no longer available", reason="invalid_continue_token"
        )
    return visitor
