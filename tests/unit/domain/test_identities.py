"""Every identity has one canonical spelling, so the same person is matched on every channel."""

from __future__ import annotations

import pytest

from carepath.domain import Identity, IdentityKind, IdentityRef, normalize_identity
from carepath.domain.identities import mentions_phone, phone_digits_kept_together
from carepath.errors import InvalidInput
from carepath.ids import CustomerId, TenantId

TENANT = TenantId("ten_test")
CUSTOMER = CustomerId("cus_test")


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("+1 650-555-1234", None),
        ("+1 (650) 555 1234", None),
        ("+16505551234", None),
        ("(650) 555-1234", "US"),
        ("650.555.1234", "US"),
        ("  +1 650 555 1234  ", "GB"),  # an explicit country code wins over the region
    ],
)
def test_phone_numbers_become_e164(value: str, region: str | None) -> None:
    assert normalize_identity(IdentityKind.PHONE, value, default_region=region) == "+16505551234"


def test_a_national_number_is_read_in_its_default_region() -> None:
    assert (
        normalize_identity(IdentityKind.PHONE, "020 7946 0958", default_region="GB")
        == "+442079460958"
    )


@pytest.mark.parametrize(
    ("value", "region"),
    [
        ("12345", None),
        ("+1 555 0100", None),  # too short for North America
        ("not a number", None),
        ("(650) 555-1234", None),  # national format and no region to read it in
        ("", None),
    ],
)
def test_invalid_phone_numbers_are_refused(value: str, region: str | None) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalize_identity(IdentityKind.PHONE, value, default_region=region)

    assert raised.value.data["field"] == "phone"


@pytest.mark.parametrize(
    "value",
    ["16505551234", "+16505551234", "whatsapp:+16505551234", "WhatsApp:+1 650 555 1234"],
)
def test_whatsapp_ids_become_e164(value: str) -> None:
    # given a WhatsApp id as the Cloud API (bare digits) or Twilio ("whatsapp:+...") send it
    # then it has the same spelling as the phone number
    assert normalize_identity(IdentityKind.WHATSAPP, value) == "+16505551234"


def test_whatsapp_in_national_format_uses_the_default_region() -> None:
    assert (
        normalize_identity(IdentityKind.WHATSAPP, "(650) 555-1234", default_region="US")
        == "+16505551234"
    )


def test_an_invalid_whatsapp_id_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        normalize_identity(IdentityKind.WHATSAPP, "123")

    assert raised.value.data["field"] == "whatsapp"


def test_emails_are_lower_cased() -> None:
    assert normalize_identity(IdentityKind.EMAIL, " Ada.Lovelace@Example.COM ") == (
        "ada.lovelace@example.com"
    )


def test_an_invalid_email_is_refused() -> None:
    with pytest.raises(InvalidInput):
        normalize_identity(IdentityKind.EMAIL, "ada@")


@pytest.mark.parametrize(
    "kind", [IdentityKind.WEB_VISITOR, IdentityKind.APP_USER, IdentityKind.EXTERNAL]
)
def test_opaque_ids_are_stripped_and_keep_their_case(kind: IdentityKind) -> None:
    assert normalize_identity(kind, "  Visitor-AbC_123  ") == "Visitor-AbC_123"


@pytest.mark.parametrize("value", ["", "   ", "x" * 201, "line\nbreak", "tab\there"])
def test_opaque_ids_must_be_1_to_200_printable_characters(value: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        normalize_identity(IdentityKind.EXTERNAL, value)

    assert raised.value.data["field"] == "external"


def test_an_identity_is_created_normalized() -> None:
    identity = Identity.create(
        TENANT, CUSTOMER, IdentityKind.PHONE, "(650) 555-1234", default_region="US"
    )

    assert identity.value == "+16505551234"
    assert identity.id.startswith("idn_")
    assert not identity.verified
    assert identity.ref == IdentityRef(IdentityKind.PHONE, "+16505551234")


def test_identity_refs_are_normalized_on_construction() -> None:
    # given two spellings of the same email
    first = IdentityRef(IdentityKind.EMAIL, "Ada@Example.com")
    second = IdentityRef.of(IdentityKind.EMAIL, "ada@example.com")
    # then they are the same claim
    assert first == second
    assert first.value == "ada@example.com"


def test_an_identity_ref_needs_a_region_for_national_numbers() -> None:
    with pytest.raises(InvalidInput):
        IdentityRef(IdentityKind.PHONE, "(650) 555-1234")

    assert IdentityRef.of(IdentityKind.PHONE, "(650) 555-1234", default_region="US").value == (
        "+16505551234"
    )


def test_a_phone_number_is_found_in_text_in_any_written_form() -> None:
    # given a stored number, and texts that write it (or something close) in several ways
    number = "+16505550101"
    written = ["call 650-555-0101", "(650) 555 0101", "+1 650 555 0101", "it is 6505550101"]
    not_it = ["650 555 0102", "order 650 and 5550101", "ext 555-0101", "+44 20 7946 0958"]
    # then each form is found, and nothing else is
    assert [mentions_phone(text, number) for text in written] == [True] * len(written)
    assert [mentions_phone(text, number) for text in not_it] == [False] * len(not_it)
    # and a national form is read in the number's own region (here France)
    assert mentions_phone("mon portable: 06 12 34 56 78", "+33612345678")
    # and the digits a database can narrow by are in every form that matched
    kept = phone_digits_kept_together(number)
    assert all(kept in text for text in written)
