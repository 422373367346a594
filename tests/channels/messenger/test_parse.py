"""Messenger and Instagram webhooks in the documented shapes → normalized messages and receipts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from carepath.channels.meta.messenger import parse_messaging_webhook
from carepath.domain.contacts import Channel
from carepath.domain.identities import IdentityKind
from carepath.domain.messages import DeliveryStatus
from carepath.errors import InvalidInput
from carepath.ids import TenantId

FIXTURES = Path(__file__).parent / "fixtures"
TENANT = TenantId("ten_test")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
PAGE_ID = "106983912345678"
PSID = "7021445431234567"
IG_ID = "17841405822304914"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def test_a_messenger_text_message() -> None:
    batch = parse_messaging_webhook(TENANT, fixture("messenger_text"), NOW)
    assert batch.channel is Channel.MESSENGER
    assert batch.account_ids == {PAGE_ID}
    [item] = batch.messages
    message = item.message
    assert item.account_id == PAGE_ID
    assert message.channel is Channel.MESSENGER
    assert (message.sender.kind, message.sender.value) == (IdentityKind.MESSENGER, PSID)
    assert message.text == "Hi, my parcel says delivered but it is not here"
    assert message.external_id is not None
    assert message.external_id.startswith("m_LCu1zUyAqQxN1Qb8")
    assert message.received_at == datetime.fromtimestamp(1750263772.865, UTC)


def test_an_attachment_is_kept_as_a_link() -> None:
    [item] = parse_messaging_webhook(TENANT, fixture("messenger_attachment"), NOW).messages
    assert item.message.text == "[image]"
    [media] = item.message.properties["media"]
    assert media["type"] == "image"
    assert media["url"].startswith("https://scontent.xx.fbcdn.net/")


def test_a_postback_is_its_title_with_the_payload() -> None:
    [item] = parse_messaging_webhook(TENANT, fixture("messenger_postback"), NOW).messages
    assert item.message.text == "Track my order"
    assert item.message.properties["postback"] == {"payload": "TRACK_ORDER"}
    assert item.message.external_id is not None
    assert item.message.external_id.startswith("m_AG5Hz2Uq")


def test_our_own_echoes_are_skipped() -> None:
    batch = parse_messaging_webhook(TENANT, fixture("messenger_echo"), NOW)
    assert (batch.messages, batch.receipts, batch.account_ids) == ((), (), frozenset())


def test_delivery_receipts_name_our_messages_and_watermark_reads_are_skipped() -> None:
    batch = parse_messaging_webhook(TENANT, fixture("messenger_delivery_read"), NOW)
    assert batch.messages == ()
    [receipt] = batch.receipts
    assert receipt.status is DeliveryStatus.DELIVERED
    assert receipt.account_id == PAGE_ID
    assert receipt.message_ids[0].startswith("m_echo1")


def test_an_instagram_direct_message() -> None:
    batch = parse_messaging_webhook(TENANT, fixture("instagram_text"), NOW)
    assert batch.channel is Channel.INSTAGRAM
    [item] = batch.messages
    assert item.account_id == IG_ID
    assert item.message.channel is Channel.INSTAGRAM
    assert item.message.sender.kind is IdentityKind.INSTAGRAM
    assert item.message.sender.value == "6543210987654321"
    assert item.message.text == "Is the green jacket back in stock?"


def test_an_instagram_read_names_the_message() -> None:
    [receipt] = parse_messaging_webhook(TENANT, fixture("instagram_read"), NOW).receipts
    assert receipt.status is DeliveryStatus.READ
    assert receipt.message_ids[0].endswith("NjoZ")


def _event(**changes: Any) -> dict[str, Any]:
    payload = fixture("messenger_text")
    event = payload["entry"][0]["messaging"][0]
    for key, value in changes.items():
        if value is None:
            del event[key]
        else:
            event[key] = value
    return payload


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"object": "user", "entry": []}, "object"),
        ({"object": "page"}, "entry"),
        (_event(sender=None), "sender"),
        (_event(recipient={"id": ""}), "recipient"),
        (_event(message={"text": "no mid"}), "mid"),
        (_event(message="text"), "message"),
        (_event(message=None, postback={"mid": "m_1"}), "postback"),
    ],
)
def test_a_wrong_shape_is_refused_naming_the_field(payload: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_messaging_webhook(TENANT, payload, NOW)
    assert field in raised.value.message
