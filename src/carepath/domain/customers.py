"""Customers: the person behind every identity, case and journey, with traits, merge and
un-merge."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carepath.domain.clock import utcnow
from carepath.domain.identities import Identity
from carepath.domain.masking import mask_card_numbers
from carepath.domain.properties import clean_properties
from carepath.errors import Conflict, IllegalTransition, InvalidInput
from carepath.ids import CustomerId, IdentityId, MergeId, TenantId, new_id

MAX_NAME_LENGTH = 200
MAX_TRAITS = 100
MAX_TRAITS_BYTES = 16 * 1024
_SEGMENT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_TRAIT_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")


def validate_segment(segment: str) -> str:
    value = segment.strip().lower()
    if not _SEGMENT.fullmatch(value):
        raise InvalidInput(
            "a segment is 1-64 lowercase letters, digits, '_' or '-' (e.g. premium)",
            field="segment",
        )
    return value


def validate_name(name: str) -> str:
    value = " ".join(mask_card_numbers(name).split())
    if not 1 <= len(value) <= MAX_NAME_LENGTH or not value.isprintable():
        raise InvalidInput(f"a name is 1-{MAX_NAME_LENGTH} printable characters", field="name")
    return value


@dataclass(eq=False)
class Customer:
    """A person. `name` and `segment` are first-class traits; any others live in `traits`.

    A customer merged into another keeps its row with `merged_into` set, so the merge can be
    undone; its identities move to the survivor while merged.
    """

    tenant_id: TenantId
    name: str | None = None
    segment: str | None = None
    traits: dict[str, Any] = field(default_factory=dict)
    merged_into: CustomerId | None = None
    id: CustomerId = field(default_factory=lambda: CustomerId(new_id("customer")))
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    erased_at: datetime | None = None

    @classmethod
    def create(
        cls,
        tenant_id: TenantId,
        *,
        traits: Mapping[str, Any] | None = None,
        now: datetime | None = None,
    ) -> Customer:
        now = now or utcnow()
        customer = cls(tenant_id=tenant_id, created_at=now, updated_at=now)
        if traits:
            customer.apply_traits(traits, now)
        return customer

    @property
    def is_merged(self) -> bool:
        return self.merged_into is not None

    def apply_traits(self, changes: Mapping[str, Any], now: datetime) -> None:
        """Set traits; "name" and "segment" go to their fields; None removes a trait.

        All of `changes` is validated before anything changes: it applies whole or not at all.
        """
        name, segment = self.name, self.segment
        others = dict(self.traits)
        for key, value in changes.items():
            if key == "name":
                name = None if value is None else validate_name(_text(value, "name"))
            elif key == "segment":
                segment = None if value is None else validate_segment(_text(value, "segment"))
            elif not isinstance(key, str) or not _TRAIT_KEY.fullmatch(key):
                raise InvalidInput(
                    f"trait name {key!r} must be a letter or '_', then up to 63 letters, "
                    "digits, '_', '.' or '-'",
                    field="traits",
                )
            elif value is None:
                others.pop(key, None)
            else:
                others[key] = value
        if len(others) > MAX_TRAITS:
            raise InvalidInput(f"a customer has at most {MAX_TRAITS} traits", field="traits")
        cleaned = clean_properties(others, field="traits", max_bytes=MAX_TRAITS_BYTES)
        # A new dict rather than an in-place update: the mapper only sees a JSON column change
        # when the attribute itself is replaced.
        self.traits = cleaned
        self.name, self.segment = name, segment
        self.updated_at = now

    def erase(self, now: datetime) -> None:
        """Right to erasure: blank the profile; the row stays as an anonymous analytics key."""
        self.name = None
        self.segment = None
        self.traits = {}
        self.erased_at = self.erased_at or now
        self.updated_at = now

    def merge_into(self, survivor: Customer, now: datetime) -> None:
        if survivor.tenant_id != self.tenant_id:
            raise InvalidInput("customers of different tenants cannot be merged", field="customer")
        if survivor.id == self.id:
            raise Conflict("a customer cannot be merged into itself")
        if self.is_merged:
            raise Conflict(f"customer {self.id} is already merged into {self.merged_into}")
        if survivor.is_merged:
            # No chains: every merged customer points straight at a live one.
            raise Conflict(
                f"customer {survivor.id} is itself merged into {survivor.merged_into}; "
                "merge into that customer instead"
            )
        self.merged_into = survivor.id
        self.updated_at = now

    def unmerge(self, now: datetime) -> None:
        if not self.is_merged:
            raise Conflict(f"customer {self.id} is not merged")
        self.merged_into = None
        self.updated_at = now


@dataclass(eq=False)
class CustomerMerge:
    """The record of one merge, with exactly what moved, so that it can be undone.

    Only identities move. Cases, contacts, messages and journey events keep the customer id
    they were written with and are read through `Customer.merged_into`, so un-merging never
    has to guess which history belonged to whom.
    """

    tenant_id: TenantId
    survivor_id: CustomerId
    merged_id: CustomerId
    moved_identity_ids: list[IdentityId]
    actor: str
    reason: str | None = None
    id: MergeId = field(default_factory=lambda: MergeId(new_id("merge")))
    created_at: datetime = field(default_factory=utcnow)
    undone_at: datetime | None = None
    undone_by: str | None = None

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None


def merge_customers(
    survivor: Customer,
    merged: Customer,
    merged_identities: Iterable[Identity],
    *,
    actor: str,
    now: datetime,
    reason: str | None = None,
) -> CustomerMerge:
    """Merge `merged` into `survivor`: move its identities, mark it, and return the record."""
    identities = list(merged_identities)
    for identity in identities:
        if identity.customer_id != merged.id:
            raise InvalidInput(
                f"identity {identity.id} does not belong to customer {merged.id}",
                field="identities",
            )
    merged.merge_into(survivor, now)
    for identity in identities:
        identity.move_to(survivor.id)
    return CustomerMerge(
        tenant_id=survivor.tenant_id,
        survivor_id=survivor.id,
        merged_id=merged.id,
        moved_identity_ids=[identity.id for identity in identities],
        actor=actor,
        reason=reason,
        created_at=now,
    )


def unmerge_customers(
    merge: CustomerMerge,
    merged: Customer,
    survivor_identities: Iterable[Identity],
    *,
    actor: str,
    now: datetime,
) -> list[Identity]:
    """Undo `merge`: the identities it moved go back to `merged`. Returns those moved back.

    Identities the survivor gained after the merge stay with the survivor.
    """
    if merge.is_undone:
        raise IllegalTransition(f"merge {merge.id} was already undone", merge_id=merge.id)
    if merged.id != merge.merged_id or merged.merged_into != merge.survivor_id:
        raise Conflict(
            f"customer {merged.id} is not the one merge {merge.id} merged away",
            merge_id=merge.id,
        )
    moved = set(merge.moved_identity_ids)
    returned = [
        identity
        for identity in survivor_identities
        if identity.id in moved and identity.customer_id == merge.survivor_id
    ]
    merged.unmerge(now)
    for identity in returned:
        identity.move_to(merged.id)
    merge.undone_at = now
    merge.undone_by = actor
    return returned


def _text(value: Any, field_name: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{field_name} must be text", field=field_name)
    return value
