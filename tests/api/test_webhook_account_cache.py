"""The SMS webhook's tenant and number, kept a short while per process (web/webhook_accounts.py):
one read less per message, the signature still checked every time, misses never kept."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from carepath.actions.channels import (
    do_set_channel_account_active,
    do_update_channel_account,
)
from carepath.domain.channel_accounts import ChannelAccount
from carepath.domain.contacts import Channel
from carepath.domain.tenants import Tenant
from carepath.secretbox import SecretBox
from carepath.storage import Database
from carepath.web.state import AppState
from carepath.web.webhook_accounts import WebhookAccounts
from tests.api.sms_webhooks import OUR_NUMBER, add_sms_number, post_sms
from tests.conftest import TEST_SECRET
from tests.factories import Company, make_company, system
from tests.statements import executed

OTHER_NUMBER = "+16505550188"
TTL_S = 2.0
# The webhook's one read of the tenant joined with its account for the number called.
TENANT_READ = "FROM TENANTS LEFT OUTER JOIN CHANNEL_ACCOUNTS"


def state(app: FastAPI) -> AppState:
    found: AppState = app.state.carepath
    return found


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock()
    state(app).webhook_accounts = WebhookAccounts(TTL_S, clock=clock)
    return clock


@pytest.fixture
async def company(db: Database) -> Company:
    return await make_company(db)


@pytest.fixture
async def account(db: Database, company: Company) -> ChannelAccount:
    return await add_sms_number(db, company, OUR_NUMBER)


async def _update(
    db: Database, company: Company, account: ChannelAccount, **changes: Any
) -> ChannelAccount:
    """The account as the console changes it: its name, address and config kept unless given."""
    fields: dict[str, Any] = {
        "name": account.name,
        "address": account.address,
        "config": account.config,
        **changes,
    }
    return await do_update_channel_account(
        db, system(company.tenant), SecretBox(TEST_SECRET), account.id, **fields
    )


def tenant_reads(app: FastAPI) -> AbstractContextManager[list[str]]:
    """The app's own reads of a tenant with its account (the app has its own engine)."""
    return executed(state(app).db.engine, TENANT_READ)


async def test_webhooks_within_the_ttl_read_the_tenant_and_number_once(
    app: FastAPI, client: httpx.AsyncClient, clock: Clock, company: Company, account: ChannelAccount
) -> None:
    # given a tenant's SMS number
    slug = company.tenant.slug
    # when an SMS, another one and a status report for that number come within the TTL
    with tenant_reads(app) as reads:
        first = await post_sms(client, slug, "SM0001")
        clock.now += TTL_S / 2
        second = await post_sms(client, slug, "SM0002")
        report = await post_sms(client, slug, "SM0001", status=True)
    # then all are accepted, and only the first read the tenant and its account
    assert (first.status_code, second.status_code, report.status_code) == (200, 200, 204)
    assert len(reads) == 1


@pytest.mark.parametrize("change", ["deactivated", "re-addressed"])
async def test_a_number_taken_away_is_refused_once_the_ttl_is_over(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: Clock,
    db: Database,
    company: Company,
    account: ChannelAccount,
    change: str,
) -> None:
    # given a number that a webhook just found
    slug = company.tenant.slug
    assert (await post_sms(client, slug, "SM0001")).status_code == 200
    # when the number is deactivated, or the account moved to another number
    if change == "deactivated":
        await do_set_channel_account_active(db, system(company.tenant), account.id, active=False)
    else:
        await _update(db, company, account, address=OTHER_NUMBER)
    # then this process still accepts it until the TTL is over (the trade-off), then refuses it
    clock.now += TTL_S - 0.01
    assert (await post_sms(client, slug, "SM0002")).status_code == 200
    clock.now += 0.01
    refused = await post_sms(client, slug, "SM0003")
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "unknown_number"


async def test_a_bad_signature_is_refused_on_a_cached_number(
    app: FastAPI, client: httpx.AsyncClient, clock: Clock, company: Company, account: ChannelAccount
) -> None:
    # given a number that a webhook just found
    slug = company.tenant.slug
    assert (await post_sms(client, slug, "SM0001")).status_code == 200
    # when a webhook for it comes signed with another token
    with tenant_reads(app) as reads:
        forged = await post_sms(client, slug, "SM0002", token="not-the-auth-token")
    # then it is refused: checked against the kept account's sealed token, then (in case that
    # token was rotated meanwhile) against the account read fresh, one read as without a cache
    assert len(reads) == 1
    assert forged.status_code == 403
    assert forged.json()["error"]["code"] == "bad_signature"


async def test_a_rotated_auth_token_works_at_once_on_a_cached_number(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: Clock,
    db: Database,
    company: Company,
    account: ChannelAccount,
) -> None:
    # given a number that a webhook just found
    slug = company.tenant.slug
    assert (await post_sms(client, slug, "SM0001")).status_code == 200
    # when its auth token is rotated, and the provider signs with the new one
    await _update(db, company, account, secrets={"auth_token": "the-rotated-token"})
    with tenant_reads(app) as reads:
        rotated = await post_sms(client, slug, "SM0002", token="the-rotated-token")
        again = await post_sms(client, slug, "SM0003", token="the-rotated-token")
        old = await post_sms(client, slug, "SM0004")
    # then it is accepted at once (one fresh read, kept from then on), and the old token is not
    assert (rotated.status_code, again.status_code, old.status_code) == (200, 200, 403)
    assert len(reads) == 2  # the rotated token's fresh read, and the old token's


async def test_unknown_tenants_and_numbers_are_read_every_time(
    app: FastAPI, client: httpx.AsyncClient, clock: Clock, db: Database, company: Company
) -> None:
    # given a tenant without the number called
    slug = company.tenant.slug
    # when webhooks for the unknown number, and for an unknown tenant, come twice each
    with tenant_reads(app) as reads:
        codes = [
            (await post_sms(client, ref, sid)).json()["error"]["code"]
            for ref in (slug, "no-such-tenant")
            for sid in ("SM0001", "SM0002")
        ]
    # then each is refused after its own read, and nothing is kept
    assert codes == ["unknown_number"] * 2 + ["unknown_tenant"] * 2
    assert len(reads) == 4
    assert len(state(app).webhook_accounts) == 0
    # and a number added is found at once, within the TTL of the refusals
    await add_sms_number(db, company, OUR_NUMBER)
    assert (await post_sms(client, slug, "SM0003")).status_code == 200


def _found(tenant_id: str) -> tuple[Tenant, ChannelAccount]:
    tenant = Tenant.create(tenant_id, tenant_id)
    account = ChannelAccount.create(tenant.id, Channel.SMS, name="x", address=OUR_NUMBER)
    return tenant, account


def test_the_cache_keeps_at_most_max_entries_and_evicts_the_oldest() -> None:
    # given a cache of two entries
    cache = WebhookAccounts(TTL_S, max_entries=2)
    keys = [(f"acme-{i}", Channel.SMS, OUR_NUMBER) for i in range(3)]
    # when three are put
    for key in keys:
        cache.put(key, _found(key[0]))
    # then the first one put is gone
    assert len(cache) == 2
    assert cache.get(keys[0]) is None
    assert cache.get(keys[1]) is not None
    assert cache.get(keys[2]) is not None


def test_a_ttl_of_zero_keeps_nothing() -> None:
    # given a cache turned off (CAREPATH_WEBHOOK_ACCOUNT_CACHE_S=0)
    cache = WebhookAccounts(0)
    key = ("acme", Channel.SMS, OUR_NUMBER)
    # when a found pair is put
    cache.put(key, _found("acme"))
    # then it is not kept
    assert cache.get(key) is None
    assert len(cache) == 0
