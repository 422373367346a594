"""The ways a customer is known on channels (email, phone, WhatsApp, visitor and app ids) and
their one canonical spelling, so that the same person is matched exactly on every contact."""

from __future__ import annotations

import enum
import functools
from dataclasses import dataclass, field
from datetime import datetime

import phonenumbers

from carepath.domain.clock import utcnow
from carepath.domain.users import normalize_email
from carepath.errors import InvalidInput
from carepath.ids import CustomerId, IdentityId, TenantId, new_id

MAX_OPAQUE_ID_LENGTH = 200
_WHATSAPP_PREFIX = "whatsapp:"


class IdentityKind(enum.StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    WHATSAPP = "whatsapp"
    WEB_VISITOR = "web_visitor"
    APP_USER = "app_user"
    EXTERNAL = "external"
    # Page-scoped ids (Messenger PSID, Instagram IGSID): one person has one per page or account.
    MESSENGER = "messenger"
    INSTAGRAM = "instagram"


def normalize_identity(kind: IdentityKind, value: str, *, default_region: str | None = None) -> str:
    """The canonical form of `value` for `kind`; the same person always gets the same string.

    Emails are validated and lower-cased; phone numbers and WhatsApp ids become E.164
    ("+16505551234"), `default_region` (ISO 3166 code such as "US") reading national formats;
    visitor, app and external ids are opaque: stripped, 1-200 printable characters, case kept.
    Raises InvalidInput with `field` set to the kind.
    """
    if kind == IdentityKind.EMAIL:
        return normalize_email(value.strip())
    if kind == IdentityKind.PHONE:
        return _e164(value, default_region, field=kind.value)
    if kind == IdentityKind.WHATSAPP:
        return _whatsapp(value, default_region)
    return _opaque(value, field=kind.value)


@dataclass(frozen=True)
class IdentityRef:
    """A claimed identity: a kind and its normalized value (no customer attached yet)."""

    kind: IdentityKind
    value: str

    def __post_init__(self) -> None:
        # Normalizing here means no un-normalized claim can reach identity resolution.
        object.__setattr__(self, "kind", IdentityKind(self.kind))
        object.__setattr__(self, "value", normalize_identity(self.kind, self.value))

    @classmethod
    def of(
        cls, kind: IdentityKind, value: str, *, default_region: str | None = None
    ) -> IdentityRef:
        return cls(kind, normalize_identity(kind, value, default_region=default_region))


@dataclass(eq=False)
class Identity:
    """One identity of one customer. Unique per tenant by (kind, value)."""

    tenant_id: TenantId
    customer_id: CustomerId
    kind: IdentityKind
    value: str
    verified: bool = False
    id: IdentityId = field(default_factory=lambda: IdentityId(new_id("identity")))
    created_at: datetime = field(default_factory=utcnow)

    @classmethod
    def create(
        cls,
        tenant_id: TenantId,
        customer_id: CustomerId,
        kind: IdentityKind,
        value: str,
        *,
        verified: bool = False,
        default_region: str | None = None,
        now: datetime | None = None,
    ) -> Identity:
        return cls(
            tenant_id=tenant_id,
            customer_id=customer_id,
            kind=kind,
            value=normalize_identity(kind, value, default_region=default_region),
            verified=verified,
            created_at=now or utcnow(),
        )

    @property
    def ref(self) -> IdentityRef:
        return IdentityRef(self.kind, self.value)

    def verify(self) -> None:
        self.verified = True

    def move_to(self, customer_id: CustomerId) -> None:
        """Attach the identity to another customer (a merge, or undoing one)."""
        self.customer_id = customer_id


def _e164(value: str, default_region: str | None, *, field: str) -> str:
    text = value.strip()
    e164, problem = _e164_or_problem(text, default_region)
    if problem is not None:
        raise InvalidInput(problem, field=field)
    return e164


# Every webhook normalizes its sender and our number; parsing costs about 300 Python calls, and
# the same numbers come again and again. Bounded, since the input is anyone's.
@functools.lru_cache(maxsize=8192)
def _e164_or_problem(text: str, default_region: str | None) -> tuple[str, str | None]:
    """(the E.164 form, None), or ("", what is wrong with it)."""
    try:
        number = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        hint = "" if default_region else " (national numbers need a default region, e.g. US)"
        return "", f"not a phone number: {text!r}{hint}"
    if not phonenumbers.is_valid_number(number):
        return "", f"not a valid phone number: {text!r}"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def _whatsapp(value: str, default_region: str | None) -> str:
    text = value.strip()
    # Twilio writes WhatsApp senders as "whatsapp:+1650..."; the Cloud API's wa_id is bare digits.
    if text.lower().startswith(_WHATSAPP_PREFIX):
        text = text[len(_WHATSAPP_PREFIX) :].strip()
    if text.isascii() and text.isdigit():
        # A wa_id always carries the country code, so bare digits are international.
        text = "+" + text
    return _e164(text, default_region, field=IdentityKind.WHATSAPP.value)


def _opaque(value: str, *, field: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= MAX_OPAQUE_ID_LENGTH or not text.isprintable():
        raise InvalidInput(
            f"a {field} id is 1-{MAX_OPAQUE_ID_LENGTH} printable characters", field=field
        )
    return text


def mentions_phone(text: str, e164: str) -> bool:
    """Does free text hold the phone number `e164` in any written form ("650-555-0101",
    "(650) 555 0101", "+1 650 555 0101", "16505550101")? A national form is read in the
    number's own region. For erasure, where an exact match of the stored spelling misses most
    numbers people type."""
    try:
        wanted = phonenumbers.parse(e164)
    except phonenumbers.NumberParseException:
        return False
    region = phonenumbers.region_code_for_number(wanted)
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    return any(
        (found.number.country_code, found.number.national_number)
        == (wanted.country_code, wanted.national_number)
        for found in matcher
    )


def phone_digits_kept_together(e164: str) -> str:
    """The number's last two digits: every written form keeps at least these side by side, so
    a database can narrow a search for `mentions_phone` with a plain substring match."""
    return "".join(c for c in e164 if c.isdigit())[-2:]
