"""The company the reliability tests load: one tenant with an SMS number, a WhatsApp number
and a support address, and what a load generator in another process needs to reach it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from carepath.actions.channels import do_create_channel_account
from carepath.domain.contacts import Channel
from carepath.secretbox import SecretBox
from carepath.storage import Database
from tests.conftest import TEST_SECRET
from tests.factories import Company, make_company, system

SMS_NUMBER = "+16505550000"
ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "twilio-auth-token-for-reliability"
WHATSAPP_NUMBER_ID = "106540352242922"
APP_SECRET = "meta-app-secret-for-reliability"
ACCESS_TOKEN = "EAAG-reliability-access-token"
SUPPORT = "support@reliability.example.com"


@dataclass(frozen=True)
class Target:
    """Everything the load generator needs, as plain values (it runs in another process)."""

    base_url: str
    smtp_port: int
    slug: str
    public_key: str
    agent_token: str
    sms_number: str = SMS_NUMBER
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    whatsapp_number_id: str = WHATSAPP_NUMBER_ID
    app_secret: str = APP_SECRET
    support: str = SUPPORT

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


async def make_world(db: Database) -> Company:
    """A company with its three provider-facing accounts."""
    company = await make_company(db)
    actor, box = system(company.tenant), SecretBox(TEST_SECRET)
    await do_create_channel_account(
        db,
        actor,
        box,
        channel=Channel.SMS,
        name="Support line",
        address=SMS_NUMBER,
        config={"account_sid": ACCOUNT_SID},
        secrets={"auth_token": AUTH_TOKEN},
    )
    await do_create_channel_account(
        db,
        actor,
        box,
        channel=Channel.WHATSAPP,
        name="WhatsApp",
        address=WHATSAPP_NUMBER_ID,
        secrets={
            "app_secret": APP_SECRET,
            "verify_token": "reliability-verify",
            "access_token": ACCESS_TOKEN,
        },
    )
    await do_create_channel_account(
        db, actor, box, channel=Channel.EMAIL, name="Support", address=SUPPORT
    )
    return company
