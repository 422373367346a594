"""Bodies of the customers API and of the public identify and track endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from carepath.domain.contacts import Channel
from carepath.domain.customers import Customer, CustomerMerge
from carepath.domain.identities import Identity, IdentityKind, IdentityRef
from carepath.domain.journey import JourneyEventType
from carepath.web.schemas import Request
from carepath.web.schemas_cases import CaseOut, JourneyEventOut

MAX_TRACK_BATCH = 100
_HEX_SHA256 = r"^[0-9a-fA-F]{64}$"


class IdentityOut(BaseModel):
    id: str
    kind: IdentityKind
    value: str = Field(description="Normalized: lower-case email, E.164 phone, opaque ids as sent.")
    verified: bool
    created_at: datetime

    @classmethod
    def of(cls, identity: Identity) -> IdentityOut:
        return cls.model_validate(identity, from_attributes=True)


class CustomerOut(BaseModel):
    id: str
    name: str | None
    segment: str | None
    traits: dict[str, Any]
    merged_into: str | None = Field(
        description="Set when this customer was merged into another: new activity goes there."
    )
    identities: list[IdentityOut]
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer, identities: list[Identity]) -> CustomerOut:
        return cls(
            id=customer.id,
            name=customer.name,
            segment=customer.segment,
            traits=customer.traits,
            merged_into=customer.merged_into,
            identities=[IdentityOut.of(i) for i in identities if i.customer_id == customer.id],
            created_at=customer.created_at,
            updated_at=customer.updated_at,
        )


class MergeOut(BaseModel):
    id: str
    survivor_id: str
    merged_id: str
    moved_identity_ids: list[str] = Field(description="What un-merging gives back.")
    actor: str
    reason: str | None
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None

    @classmethod
    def of(cls, merge: CustomerMerge) -> MergeOut:
        return cls.model_validate(merge, from_attributes=True)


class CustomerDetailOut(CustomerOut):
    cases: list[CaseOut] = Field(description="Cases of this customer and those merged into it.")
    journey: list[JourneyEventOut] = Field(
        description="The newest 100 journey events of this customer and those merged into it, "
        "oldest first."
    )
    merges: list[MergeOut] = Field(
        description="Merges in force that this customer is part of (survivor or merged away)."
    )


class CustomerUpdateIn(Request):
    name: str | None = Field(default=None, max_length=200, description="null removes it.")
    segment: str | None = Field(default=None, max_length=64, description="null removes it.")
    traits: dict[str, Any] | None = Field(
        default=None, description="Other traits to set; a null value removes that trait."
    )

    def changes(self) -> dict[str, Any]:
        """The traits to apply: only what the body named, so an absent field stays as it is."""
        changes = dict(self.traits or {})
        for reserved in ("name", "segment"):
            changes.pop(reserved, None)
            if reserved in self.model_fields_set:
                changes[reserved] = getattr(self, reserved)
        return changes


class MergeIn(Request):
    merged_id: str = Field(
        min_length=1, max_length=64, description="The duplicate, merged into the path's customer."
    )
    reason: str | None = Field(default=None, max_length=500)


class IdentityRefOut(BaseModel):
    kind: IdentityKind
    value: str

    @classmethod
    def of(cls, ref: IdentityRef) -> IdentityRefOut:
        return cls(kind=ref.kind, value=ref.value)


class IdentifyIn(Request):
    user_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Your own id of the signed-in user."
    )
    hash: str | None = Field(
        default=None,
        pattern=_HEX_SHA256,
        description="Hex HMAC-SHA256 of user_id keyed with the identity secret, computed by "
        "your backend. Required from a browser or app for user_id, email and phone to count.",
    )
    visitor_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The browser's or device's id."
    )
    email: str | None = Field(default=None, min_length=3, max_length=320)
    phone: str | None = Field(
        default=None, min_length=3, max_length=40, description="International (+16505550100)."
    )
    name: str | None = Field(default=None, max_length=200)
    segment: str | None = Field(
        default=None, max_length=64, description="Only from a backend (API token)."
    )
    traits: dict[str, Any] = Field(default_factory=dict)

    def all_traits(self) -> dict[str, Any]:
        traits = dict(self.traits)
        if self.name is not None:
            traits["name"] = self.name
        if self.segment is not None:
            traits["segment"] = self.segment
        return traits


class IdentifyOut(BaseModel):
    customer_id: str
    verified: bool = Field(description="Whether the caller proved who this is.")
    linked: list[IdentityRefOut] | None = Field(
        description="Identities newly linked. Null for a browser or app."
    )
    conflicts: list[IdentityRefOut] | None = Field(
        description="Identities another customer owns (not moved; merge if it is one person). "
        "Null for a browser or app, which is never told who else is known."
    )
    ignored: list[str] = Field(
        description="Fields a browser or app sent without a valid hash, so not linked."
    )


class TrackEventIn(Request):
    type: JourneyEventType
    name: str = Field(min_length=1, max_length=100, description="e.g. return_started")
    channel: Channel = Channel.WEB
    occurred_at: AwareDatetime | None = Field(default=None, description="Defaults to now.")
    properties: dict[str, Any] = Field(default_factory=dict)

    @field_validator("type")
    @classmethod
    def _trackable(cls, value: JourneyEventType) -> JourneyEventType:
        if not value.is_trackable:
            raise ValueError(f"{value.value} events are recorded by carepath itself")
        return value


class TrackIn(Request):
    visitor_id: str | None = Field(default=None, min_length=1, max_length=200)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)
    hash: str | None = Field(default=None, pattern=_HEX_SHA256)
    events: list[TrackEventIn] = Field(min_length=1, max_length=MAX_TRACK_BATCH)


class TrackOut(BaseModel):
    accepted: int
    ids: list[str] = Field(description="The journey event ids, in the order sent.")
