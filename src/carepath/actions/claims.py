"""Identify and track calls from a tenant's site, app and backend: which identity claims are
trusted, which are ignored, and which are refused."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from carepath.actions.identify import TrackedEvent, do_identify, do_track
from carepath.actions.payloads import customer_payload
from carepath.domain.clock import utcnow
from carepath.domain.customers import Customer
from carepath.domain.events import EventType
from carepath.domain.identities import Identity, IdentityKind, IdentityRef
from carepath.domain.journey import JourneyEvent
from carepath.domain.tenants import Tenant
from carepath.errors import AuthenticationRequired, InvalidInput, PermissionDenied
from carepath.storage import Database, UnitOfWork

T = TypeVar("T")
MAX_ATTEMPTS = 4
# The company's own sign-in id; `external` is left for CRM ids that an integration syncs.
USER_ID_KIND = IdentityKind.APP_USER


@dataclass(frozen=True)
class Claims:
    """What an identify call says about who is there, as sent."""

    user_id: str | None = None
    hash: str | None = None
    visitor_id: str | None = None
    email: str | None = None
    phone: str | None = None
    traits: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ClaimsResult:
    customer: Customer
    verified: bool  # the caller proved who this is (a valid hash, or a backend)
    linked: list[IdentityRef]
    # Identities another customer already owns: never moved (that is a merge an agent decides).
    conflicts: list[IdentityRef]
    # Body fields a browser sent without proof, which were therefore not linked.
    ignored: list[str]


def user_hash(identity_secret: str, user_id: str) -> str:
    """What the tenant's backend computes for `hash`: hex HMAC-SHA256 of the user id."""
    return hmac.new(identity_secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def check_user_hash(tenant: Tenant, user_id: str, given: str) -> None:
    expected = user_hash(tenant.identity_secret, user_id)
    if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
        raise AuthenticationRequired(
            "hash does not match user_id: sign the user id with your identity secret "
            "(hex HMAC-SHA256) on your backend",
            reason="invalid_hash",
        )


async def do_identify_claims(
    db: Database, tenant: Tenant, claims: Claims, *, trusted: bool
) -> ClaimsResult:
    """Link what an identify call claims, by these rules (a browser or app calls with the
    tenant's public key, `trusted=False`; a backend with an API token, `trusted=True`):

    - A backend is trusted: every identity it names is linked (as verified) the way
      `do_identify` links them, the first one that already has a customer deciding who this is.
    - A browser proves who is signed in with `hash`: hex HMAC-SHA256 of `user_id` keyed with the
      tenant's identity secret, computed by the tenant's backend. A wrong hash is refused whole.
    - With a valid hash the customer is the one owning that `user_id` (an `app_user`
      identity); if nobody owns it yet, the customer behind `visitor_id` when that customer is
      still anonymous (visitor ids only: this browser's journey becomes the user's); otherwise
      a new customer. `email` and `phone` are then linked to it only if nobody owns them: the
      hash covers `user_id` alone, so they never decide who this is.
    - Without a hash, `user_id`, `email` and `phone` are claims nobody proved: refused when the
      tenant requires verification, otherwise ignored (listed in `ignored`), so an unverified
      visitor can never reach or join another customer's history. Only `visitor_id` is linked.
    - A browser may not set `segment`: it drives routing and priority.
    - Identities another customer owns are never moved (that is a merge an agent decides).
    """
    user = _ref(USER_ID_KIND, claims.user_id, "user_id")
    visitor = _ref(IdentityKind.WEB_VISITOR, claims.visitor_id, "visitor_id")
    email = _ref(IdentityKind.EMAIL, claims.email, "email")
    phone = _ref(IdentityKind.PHONE, claims.phone, "phone")
    if claims.hash is not None:
        if user is None:
            raise InvalidInput("hash signs user_id: send the user_id it signs", field="user_id")
        check_user_hash(tenant, user.value, claims.hash)
    if trusted:
        refs = [ref for ref in (user, email, phone, visitor) if ref is not None]
        if not refs:
            raise InvalidInput(
                "name the customer: user_id, email, phone or visitor_id", field="user_id"
            )
        found = await do_identify(db, tenant.id, refs, traits=claims.traits, verified=True)
        return ClaimsResult(found.customer, True, found.linked, found.conflicts, [])
    if "segment" in claims.traits:
        raise PermissionDenied(
            "a browser or app may not set the segment (it drives routing); set it from your "
            "backend with an API token",
            field="segment",
        )
    if user is not None and claims.hash is not None:
        links = [ref for ref in (email, phone) if ref is not None]
        return await _retrying(
            db, lambda uow: _signed_in(uow, tenant, user, visitor, links, claims.traits)
        )
    unproven = [
        name for name, ref in (("user_id", user), ("email", email), ("phone", phone)) if ref
    ]
    if unproven and tenant.verification_required:
        raise AuthenticationRequired(
            "this company requires identity verification: send hash, the hex HMAC-SHA256 of "
            "user_id with your identity secret",
            reason="verification_required",
        )
    if visitor is None:
        raise InvalidInput("send visitor_id, or user_id with its hash", field="visitor_id")
    return await _retrying(
        db, lambda uow: _anonymous(uow, tenant, visitor, claims.traits, unproven)
    )


async def do_track_claims(
    db: Database,
    tenant: Tenant,
    batch: Sequence[TrackedEvent],
    *,
    visitor_id: str | None,
    user_id: str | None,
    hash: str | None,
    trusted: bool,
) -> list[JourneyEvent]:
    """Record journey events for a visitor, or for a user a browser proved with `hash`."""
    if (visitor_id is None) == (user_id is None):
        raise InvalidInput("send either visitor_id or user_id (with its hash)", field="visitor_id")
    who = _ref(USER_ID_KIND, user_id, "user_id") or _ref(
        IdentityKind.WEB_VISITOR, visitor_id, "visitor_id"
    )
    assert who is not None
    if who.kind is USER_ID_KIND:
        if hash is not None:
            check_user_hash(tenant, who.value, hash)
        elif not trusted:
            raise AuthenticationRequired(
                "user_id from a browser or app needs hash, the hex HMAC-SHA256 of user_id "
                "with your identity secret",
                reason="verification_required",
            )
    return await do_track(db, tenant.id, who, batch)


async def _signed_in(
    uow: UnitOfWork,
    tenant: Tenant,
    user: IdentityRef,
    visitor: IdentityRef | None,
    links: Sequence[IdentityRef],
    traits: Mapping[str, Any],
) -> ClaimsResult:
    now = utcnow()
    user_identity = await uow.identities.find(tenant.id, user.kind, user.value)
    visitor_identity = (
        await uow.identities.find(tenant.id, visitor.kind, visitor.value) if visitor else None
    )
    customer: Customer | None = None
    if user_identity is not None:
        customer = await uow.customers.live(tenant.id, user_identity.customer_id)
    elif visitor_identity is not None:
        candidate = await uow.customers.live(tenant.id, visitor_identity.customer_id)
        # A browser that another user signed in on keeps that user's visitor id; adopting it
        # would hand this user the other one's history.
        if candidate is not None and await is_anonymous(uow, tenant, candidate):
            customer = candidate
    claimed: list[tuple[IdentityRef, Identity | None, bool]] = [(user, user_identity, True)]
    if visitor is not None:
        claimed.append((visitor, visitor_identity, False))
    for ref in links:
        claimed.append((ref, await uow.identities.find(tenant.id, ref.kind, ref.value), False))
    customer, is_new = await _customer(uow, tenant, customer, traits)
    cluster = set(await uow.customers.cluster_ids(tenant.id, customer.id))
    linked: list[IdentityRef] = []
    conflicts: list[IdentityRef] = []
    for ref, identity, verified in claimed:
        if identity is None:
            uow.identities.add(_identity(tenant, customer, ref, verified=verified, now=now))
            linked.append(ref)
        elif identity.customer_id not in cluster:
            conflicts.append(ref)
        elif verified and not identity.verified:
            identity.verify()
    await _announce(uow, tenant, customer, is_new=is_new, changed=bool(linked or traits))
    return ClaimsResult(customer, True, linked, conflicts, [])


async def _anonymous(
    uow: UnitOfWork,
    tenant: Tenant,
    visitor: IdentityRef,
    traits: Mapping[str, Any],
    ignored: list[str],
) -> ClaimsResult:
    identity = await uow.identities.find(tenant.id, visitor.kind, visitor.value)
    customer = await uow.customers.live(tenant.id, identity.customer_id) if identity else None
    customer, is_new = await _customer(uow, tenant, customer, traits)
    linked: list[IdentityRef] = []
    if identity is None:
        uow.identities.add(_identity(tenant, customer, visitor, verified=False, now=utcnow()))
        linked.append(visitor)
    await _announce(uow, tenant, customer, is_new=is_new, changed=bool(linked or traits))
    return ClaimsResult(customer, False, linked, [], ignored)


async def _customer(
    uow: UnitOfWork, tenant: Tenant, customer: Customer | None, traits: Mapping[str, Any]
) -> tuple[Customer, bool]:
    now = utcnow()
    if customer is None:
        customer = Customer.create(tenant.id, traits=traits, now=now)
        uow.customers.add(customer)
        await uow.flush()
        return customer, True
    if traits:
        customer.apply_traits(traits, now)
    return customer, False


async def _announce(
    uow: UnitOfWork, tenant: Tenant, customer: Customer, *, is_new: bool, changed: bool
) -> None:
    if is_new or changed:
        await uow.flush()
        event = EventType.CUSTOMER_CREATED if is_new else EventType.CUSTOMER_UPDATED
        await uow.events.append(tenant.id, event, customer_payload(customer))


async def is_anonymous(uow: UnitOfWork, tenant: Tenant, customer: Customer) -> bool:
    """Known only by visitor ids: nobody proved who this is (a browser holding the id may
    see this history, and a signed-in user may adopt it)."""
    cluster = await uow.customers.cluster_ids(tenant.id, customer.id)
    identities = await uow.identities.of_customers(tenant.id, cluster)
    return all(identity.kind is IdentityKind.WEB_VISITOR for identity in identities)


def _identity(
    tenant: Tenant, customer: Customer, ref: IdentityRef, *, verified: bool, now: datetime
) -> Identity:
    return Identity(
        tenant_id=tenant.id,
        customer_id=customer.id,
        kind=ref.kind,
        value=ref.value,
        verified=verified,
        created_at=now,
    )


def _ref(kind: IdentityKind, value: str | None, field_name: str) -> IdentityRef | None:
    if value is None:
        return None
    try:
        return IdentityRef.of(kind, value)
    except InvalidInput as exc:
        # The domain names the identity kind; the caller knows the body field.
        raise InvalidInput(exc.message, field=field_name) from exc


async def _retrying(db: Database, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    # Two first calls for one new visitor race on the identity's unique key; the loser retries
    # and finds what the winner stored.
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            async with db.uow() as uow:
                return await work(uow)
        except IntegrityError:
            if attempt == MAX_ATTEMPTS:
                raise
    raise AssertionError("unreachable")
