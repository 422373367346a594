"""Messages and the normalized inbound message: masked, bounded, consistent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from carepath.domain import (
    Attachment,
    AuthorKind,
    Channel,
    DeliveryStatus,
    Direction,
    IdentityKind,
    IdentityRef,
    InboundMessage,
    Message,
)
from carepath.errors import InvalidInput
from carepath.ids import CaseId
from tests.unit.domain.factories import AGENT, CUSTOMER, T0, TENANT

CASE = CaseId("case_test")
SHA = "a" * 64
EMAIL_SENDER = IdentityRef(IdentityKind.EMAIL, "ada@example.com")
PHOTO = Attachment("photo.jpg", "image/jpeg", 2048, sha256=SHA, stored=True)


def inbound(**changes: Any) -> InboundMessage:
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "channel": Channel.EMAIL,
        "sender": EMAIL_SENDER,
        "text": "my refund still hasn't arrived",
        "received_at": T0,
    }
    values.update(changes)
    return InboundMessage(**values)


def customer_message(**changes: Any) -> Message:
    values: dict[str, Any] = {
        "tenant_id": TENANT,
        "case_id": CASE,
        "customer_id": CUSTOMER,
        "channel": Channel.CHAT,
        "direction": Direction.INBOUND,
        "author_kind": AuthorKind.CUSTOMER,
        "text": "hello",
        "now": T0,
    }
    values.update(changes)
    return Message.create(**values)


def test_an_inbound_message_is_accepted_as_sent() -> None:
    message = inbound(external_id=" <abc@mail.example.com> ", sender_name="Ada  Lovelace")

    assert message.text == "my refund still hasn't arrived"
    assert message.external_id == "<abc@mail.example.com>"
    assert message.sender_name == "Ada Lovelace"
    assert message.identities == (EMAIL_SENDER,)


def test_an_inbound_message_masks_card_numbers_in_text_and_properties() -> None:
    message = inbound(
        text="charged twice on 4111 1111 1111 1111",
        properties={"subject": "card 5555555555554444"},
    )

    assert message.text == "charged twice on **** **** **** 1111"
    assert message.properties == {"subject": "card ************4444"}


def test_text_of_20000_characters_is_accepted_and_one_more_refused() -> None:
    assert len(inbound(text="x" * 20_000).text) == 20_000

    with pytest.raises(InvalidInput) as raised:
        inbound(text="x" * 20_001)

    assert raised.value.data["field"] == "text"


@pytest.mark.parametrize("text", ["", "   \n\t", "\x00"])
def test_an_empty_message_without_attachments_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        inbound(text=text)


def test_an_attachment_alone_is_a_message() -> None:
    message = inbound(text="", attachments=(PHOTO,))

    assert message.text == ""
    assert message.attachments == (PHOTO,)


def test_nul_characters_are_removed() -> None:
    assert inbound(text="a\x00b").text == "ab"


def test_a_naive_receive_time_is_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        inbound(received_at=datetime(2024, 5, 1, 9, 0))  # naive on purpose

    assert raised.value.data["field"] == "received_at"


@pytest.mark.parametrize(
    ("channel", "sender"),
    [
        (Channel.SMS, EMAIL_SENDER),
        (Channel.EMAIL, IdentityRef(IdentityKind.PHONE, "+16505551234")),
        (Channel.WHATSAPP, IdentityRef(IdentityKind.PHONE, "+16505551234")),
        (Channel.VOICE, IdentityRef(IdentityKind.WEB_VISITOR, "v-1")),
    ],
)
def test_a_sender_must_fit_its_channel(channel: Channel, sender: IdentityRef) -> None:
    with pytest.raises(InvalidInput) as raised:
        inbound(channel=channel, sender=sender)

    assert raised.value.data["field"] == "sender"


def test_the_web_channel_carries_no_messages() -> None:
    with pytest.raises(InvalidInput) as raised:
        inbound(channel=Channel.WEB, sender=IdentityRef(IdentityKind.WEB_VISITOR, "v-1"))

    assert raised.value.data["field"] == "channel"


def test_thread_refs_are_deduplicated_in_order_and_bounded() -> None:
    refs = ("<a@x>", " <b@x> ", "<a@x>", "", *(f"<{n}@x>" for n in range(200)))

    message = inbound(thread_refs=refs)

    assert message.thread_refs[:0] == ()
    assert len(message.thread_refs) == 100
    assert message.thread_refs[-1] == "<199@x>"
    assert inbound(thread_refs=refs[:4]).thread_refs == ("<a@x>", "<b@x>")


def test_the_widget_can_claim_more_identities_than_the_sender() -> None:
    visitor = IdentityRef(IdentityKind.WEB_VISITOR, "v-42")
    app_user = IdentityRef(IdentityKind.APP_USER, "u-7")

    message = inbound(
        channel=Channel.CHAT,
        sender=visitor,
        other_identities=(app_user,),
        sender_verified=True,
        case_id=CASE,
    )

    assert message.identities == (visitor, app_user)
    assert message.case_id == CASE


def test_an_external_id_longer_than_its_column_is_refused() -> None:
    assert inbound(external_id="x" * 255).external_id == "x" * 255

    with pytest.raises(InvalidInput) as raised:
        inbound(external_id="x" * 256)

    assert raised.value.data["field"] == "external_id"


def test_oversized_properties_are_refused() -> None:
    with pytest.raises(InvalidInput) as raised:
        inbound(properties={"blob": "x" * 40_000})

    assert raised.value.data["field"] == "properties"


def test_a_message_masks_its_text_however_it_is_built() -> None:
    # given a message built directly, not through create()
    message = Message(
        tenant_id=TENANT,
        case_id=CASE,
        customer_id=CUSTOMER,
        channel=Channel.SMS,
        direction=Direction.INBOUND,
        author_kind=AuthorKind.CUSTOMER,
        text="4111-1111-1111-1111",
    )
    # then its text is masked all the same
    assert message.text == "****-****-****-1111"
    assert message.id.startswith("msg_")


def test_attachments_are_kept_as_json_and_read_back_as_values() -> None:
    message = customer_message(text="", attachments=[PHOTO])

    assert message.attachments == [PHOTO.to_dict()]
    assert message.attachment_values == (PHOTO,)


def test_attachment_filenames_cannot_escape_a_folder() -> None:
    attachment = Attachment("../../etc/passwd", "Text/Plain; charset=utf-8", 10)

    assert attachment.filename == "passwd"
    assert attachment.content_type == "text/plain"


def test_a_long_filename_keeps_its_extension() -> None:
    attachment = Attachment("a" * 300 + ".pdf", "application/pdf", 10)

    assert len(attachment.filename) == 255
    assert attachment.filename.endswith(".pdf")


@pytest.mark.parametrize(
    "data",
    [
        {"filename": "a.txt", "content_type": "text/plain"},
        {"filename": "a.txt", "content_type": "nonsense", "size": 1},
        {"filename": "a.txt", "content_type": "text/plain", "size": -1},
        {"filename": "a.txt", "content_type": "text/plain", "size": 1, "sha256": "xyz"},
        {"filename": "a.txt", "content_type": "text/plain", "size": 1, "stored": True},
    ],
    ids=["no-size", "bad-type", "negative-size", "bad-hash", "stored-without-hash"],
)
def test_invalid_attachments_are_refused(data: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        Attachment.from_dict(data)


def test_a_rejected_attachment_says_why() -> None:
    rejected = Attachment("big.zip", "application/zip", 50_000_000, rejected_reason="too_large")

    assert Attachment.from_dict(rejected.to_dict()) == rejected
    assert not rejected.stored


@pytest.mark.parametrize(
    ("direction", "author_kind"),
    [(Direction.INBOUND, AuthorKind.AGENT), (Direction.OUTBOUND, AuthorKind.CUSTOMER)],
)
def test_direction_and_author_must_agree(direction: Direction, author_kind: AuthorKind) -> None:
    with pytest.raises(InvalidInput):
        customer_message(direction=direction, author_kind=author_kind, author_id=AGENT)


def test_an_agent_message_names_its_author() -> None:
    with pytest.raises(InvalidInput):
        customer_message(direction=Direction.OUTBOUND, author_kind=AuthorKind.AGENT)


def test_an_internal_note_is_never_sent() -> None:
    note = customer_message(
        direction=Direction.OUTBOUND,
        author_kind=AuthorKind.AGENT,
        author_id=AGENT,
        is_internal_note=True,
    )

    assert not note.is_sendable
    with pytest.raises(InvalidInput):
        note.record_delivery(DeliveryStatus.SENT)


def test_delivery_reports_only_move_forward() -> None:
    # given an agent's reply
    reply = customer_message(
        direction=Direction.OUTBOUND, author_kind=AuthorKind.AGENT, author_id=AGENT
    )
    # when reports arrive out of order
    assert reply.record_delivery(DeliveryStatus.DELIVERED)
    assert not reply.record_delivery(DeliveryStatus.SENT)
    assert not reply.record_delivery(DeliveryStatus.FAILED)
    assert reply.record_delivery(DeliveryStatus.READ)
    # then the furthest one holds
    assert reply.delivery_status is DeliveryStatus.READ
