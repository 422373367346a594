"""A tenant's SMS number and Twilio's signed webhooks to it, for the API tests."""

from __future__ import annotations

from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from carepath.actions.channels import do_create_channel_account
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.secretbox import SecretBox
from carepath.storage import Database
from tests.conftest import TEST_SECRET
from tests.factories import Company, system

AUTH_TOKEN = "sms-auth-token-for-tests"
OUR_NUMBER = "+16505550199"


async def add_sms_number(db: Database, company: Company, number: str) -> ChannelAccount:
    return await do_create_channel_account(
        db,
        system(company.tenant),
        SecretBox(TEST_SECRET),
        channel=Channel.SMS,
        name=f"Line {number}",
        address=number,
        config={"account_sid": "AC" + "1" * 32},
        secrets={"auth_token": AUTH_TOKEN},
    )


async def post_sms(
    client: httpx.AsyncClient,
    tenant_ref: str,
    sid: str,
    *,
    to: str = OUR_NUMBER,
    token: str = AUTH_TOKEN,
    status: bool = False,
) -> httpx.Response:
    path = f"/webhooks/twilio/{tenant_ref}/sms" + ("/status" if status else "")
    if status:  # a delivery report for a message we sent from our number
        form = [("MessageSid", sid), ("MessageStatus", "delivered"), ("From", to)]
    else:
        form = [("MessageSid", sid), ("From", "+16505550100"), ("To", to), ("Body", "hi")]
    signature = RequestValidator(token).compute_signature(f"https://testserver{path}", dict(form))
    return await client.post(
        path,
        content=urlencode(form),
        headers={
            "X-Twilio-Signature": signature,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
