"""Visitor sessions: the handshake that decides who a browser or app is, and the short-lived
signed token that carries the answer to the stream and the REST calls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from carepath.actions.claims import Claims, do_identify_claims, is_anonymous
from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind, IdentityRef
from carepath.domain.tenants import Tenant
from carepath.errors import AuthenticationRequired, InvalidInput
from carepath.ids import CaseId, CustomerId, TenantId
from carepath.storage import Database, UnitOfWork

SESSION_LIFETIME = timedelta(hours=1)
VISITOR_CHANNELS = frozenset({Channel.CHAT, Channel.APP})
_SALT = "carepath.visitor-session"


@dataclass(frozen=True)
class VisitorSession:
    """Who holds a session token. `user_id` is set only when it was proven at the handshake
    (a valid hash, or the tenant's backend with an API token); `phone` and `case_id` only when
    the handshake carried a "continue in chat" link, which was texted to that phone about that
    case (channels/widget/continuation.py)."""

    tenant_id: TenantId
    visitor_id: str
    channel: Channel
    user_id: str | None = None
    phone: str | None = None
    case_id: CaseId | None = None

    @property
    def verified(self) -> bool:
        return self.user_id is not None or self.phone is not None

    @property
    def key(self) -> str:
        """The rate-limit key: one per person, however many tabs they have open."""
        who = f"v:{self.visitor_id}"
        if self.user_id:
            who = f"u:{self.user_id}"
        elif self.phone:
            who = f"p:{self.phone}"
        return f"{self.tenant_id}/{who}"

    @property
    def sender(self) -> IdentityRef:
        """The strongest identity the session proves: the signed-in user, else the visitor.
        (A shared browser's visitor id may belong to someone who signed in there before.)"""
        if self.user_id is not None:
            return IdentityRef.of(IdentityKind.APP_USER, self.user_id)
        if self.phone is not None:
            return IdentityRef.of(IdentityKind.PHONE, self.phone)
        return IdentityRef.of(IdentityKind.WEB_VISITOR, self.visitor_id)


@dataclass(frozen=True)
class Visitor:
    """A session resolved to its customer now (merges followed)."""

    session: VisitorSession
    customer_id: CustomerId
    cluster: list[CustomerId]


def issue_token(secret: str, session: VisitorSession) -> tuple[str, datetime]:
    payload = [
        session.tenant_id,
        session.visitor_id,
        session.channel.value,
        session.user_id,
        session.phone,
        session.case_id,
    ]
    token = URLSafeTimedSerializer(secret, salt=_SALT).dumps(payload)
    return str(token), utcnow() + SESSION_LIFETIME


def read_token(secret: str, token: str) -> VisitorSession:
    serializer = URLSafeTimedSerializer(secret, salt=_SALT)
    try:
        value = serializer.loads(token, max_age=int(SESSION_LIFETIME.total_seconds()))
    except SignatureExpired as exc:
        raise AuthenticationRequired(
            "the visitor session expired: open a new one (POST /v1/visitor/session)",
            reason="session_expired",
        ) from exc
    except BadSignature as exc:
        raise AuthenticationRequired(
            "not a visitor session token: open one with POST /v1/visitor/session",
            reason="invalid_session",
        ) from exc
    try:
        tenant_id, visitor_id, channel, user_id, *continued = value
        phone, case_id = (*continued, None, None)[:2]
        return VisitorSession(
            TenantId(tenant_id),
            visitor_id,
            Channel(channel),
            user_id,
            phone,
            CaseId(case_id) if case_id else None,
        )
    except (TypeError, ValueError) as exc:  # signed by us, but in a shape this version lacks
        raise AuthenticationRequired(
            "this visitor session is from an older version: open a new one",
            reason="invalid_session",
        ) from exc


async def open_session(
    db: Database,
    tenant: Tenant,
    *,
    visitor_id: str,
    user_id: str | None,
    hash: str | None,
    channel: Channel,
    trusted: bool,
) -> Visitor:
    """The handshake. Who this is follows the public identify rules exactly (a user needs a
    valid hash from a browser; with `verification_required` an unproven user id is refused),
    and on top: an unproven visitor may only hold a visitor id that nobody has signed in with,
    so a visitor id copied from a signed-in user's browser shows nothing of theirs."""
    if channel not in VISITOR_CHANNELS:
        raise InvalidInput("a visitor session is on chat (the widget) or app", field="channel")
    claims = Claims(user_id=user_id, hash=hash, visitor_id=visitor_id)
    result = await do_identify_claims(db, tenant, claims, trusted=trusted)
    session = VisitorSession(tenant.id, visitor_id, channel, user_id if result.verified else None)
    async with db.uow(write=False) as uow:
        return await resolve(uow, session)


async def resolve(uow: UnitOfWork, session: VisitorSession) -> Visitor:
    """The customer behind a session now: the user's (or the visitor's) live customer and those
    merged into it. Refused if an unproven visitor id has since been signed in with."""
    identity = await uow.identities.find(
        session.tenant_id, session.sender.kind, session.sender.value
    )
    customer = (
        await uow.customers.live(session.tenant_id, identity.customer_id) if identity else None
    )
    if customer is None:
        raise AuthenticationRequired(
            "this visitor is not known any more: open a new session", reason="session_stale"
        )
    if not session.verified:
        tenant = await uow.tenants.get(session.tenant_id)
        if tenant is None:
            raise AuthenticationRequired("tenant not found", reason="session_stale")
        await _require_anonymous(uow, tenant, customer.id)
    cluster = await uow.customers.cluster_ids(session.tenant_id, customer.id)
    return Visitor(session, customer.id, cluster)


async def _require_anonymous(uow: UnitOfWork, tenant: Tenant, customer_id: CustomerId) -> None:
    customer = await uow.customers.live(tenant.id, customer_id)
    if customer is None or not await is_anonymous(uow, tenant, customer):
        raise AuthenticationRequired(
            "this visitor id belongs to a signed-in customer: identify with user_id and its "
            "hash, or start over with a new visitor id",
            reason="visitor_belongs_to_user",
        )
