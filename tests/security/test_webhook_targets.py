"""SSRF guard: a webhook endpoint cannot point carepath at its own network, neither when it is
registered nor when a delivery goes out (where the name is resolved once and the vetted address
is the one connected to)."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from sqlalchemy import func, select

from carepath.actions import do_create_webhook
from carepath.delivery.registry import build_handlers, http_client
from carepath.domain.outbox import OutboxStatus
from carepath.settings import Settings
from carepath.storage import Database, tables
from carepath.webhook_targets import TargetRefused, is_public, pin
from carepath.worker import OutboxWorker
from tests.factories import bearer, make_company, system
from tests.receiver import Receiver
from tests.reliability_report import record
from tests.security.apps import SECTION, app_with, client_for

REFUSED_URLS = [
    "http://127.0.0.1/hook",
    "http://127.1.2.3:8080/hook",
    "http://localhost:8000/hook",
    "http://api.localhost/hook",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://[::ffff:a9fe:a9fe]/hook",
    "http://0.0.0.0/hook",
    "http://10.0.0.5/hook",
    "http://172.16.3.4/hook",
    "http://192.168.1.1/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://100.64.0.1/hook",
    "http://224.0.0.251/hook",
    "http://[ff02::1]/hook",
    "http://240.0.0.1/hook",
    "http://255.255.255.255/hook",
    "http://198.18.0.1/hook",
    "http://2130706433/hook",  # 127.0.0.1 written as one number
    "http://0x7f.1/hook",  # 127.0.0.1 in hex shorthand
    "http://[2002:7f00:1::]/hook",  # 6to4 wrapping 127.0.0.1
]
BAD_SCHEMES = ["ftp://example.com/x", "file:///etc/passwd", "gopher://127.0.0.1:6379/_INFO"]
PUBLIC_URL = "https://93.184.215.14/hooks/carepath"


async def endpoints(db: Database) -> int:
    async with db.engine.connect() as conn:
        return int(
            (
                await conn.execute(select(func.count()).select_from(tables.webhook_endpoints))
            ).scalar_one()
        )


async def test_registration_refuses_private_and_odd_targets_and_stores_nothing(
    settings: Settings, db: Database
) -> None:
    company = await make_company(db)
    async with app_with(settings, webhook_allow_private_targets=False) as app:
        http = client_for(app)
        for url in REFUSED_URLS + BAD_SCHEMES:
            body = {"url": url, "event_types": ["*"]}
            response = await http.post(
                "/v1/webhooks", json=body, headers=bearer(company.admin_token)
            )
            assert response.status_code == 422, f"{url}: {response.status_code} {response.text}"
            code = response.json()["error"]["code"]
            assert code in {"webhook_target_refused", "validation_error"}, (url, code)
        assert await endpoints(db) == 0
        accepted = await http.post(
            "/v1/webhooks",
            json={"url": PUBLIC_URL, "event_types": ["*"]},
            headers=bearer(company.admin_token),
        )
        assert accepted.status_code == 201, accepted.text
    record(
        "webhook-ssrf-registration",
        section=SECTION,
        what="Webhook endpoints registered at loopback, private, link-local, carrier-NAT, "
        "multicast, reserved and disguised addresses (decimal, hex, IPv4-mapped, 6to4), and "
        "non-http schemes.",
        counts={"inputs_tried": len(REFUSED_URLS) + len(BAD_SCHEMES), "requests_made": 27},
        result="every one refused with 422 and nothing stored; a public address is accepted",
    )


async def test_a_delivery_to_a_name_that_now_resolves_privately_is_refused_unsent(
    settings: Settings, db: Database
) -> None:
    # An endpoint that passed registration (here: registered while private targets were
    # allowed, as a name that was public then and rebinds to loopback now would have).
    company = await make_company(db)
    strict = settings.model_copy(update={"webhook_allow_private_targets": False})
    async with Receiver() as receiver:
        port = httpx.URL(receiver.url).port
        for url in (receiver.url, f"http://localhost:{port}/hooks/carepath"):
            await do_create_webhook(
                db, system(company.tenant), url=url, event_types=["*"], allow_private=True
            )
        async with db.uow() as uow:
            await uow.events.append(company.tenant.id, "case.updated", {"case_id": "c1"})
        async with http_client() as http:
            worker = OutboxWorker(db, build_handlers(strict, http), name="ssrf-test")
            assert await worker.run_once() == 2
        assert receiver.requests == []
    async with db.uow(write=False) as uow:
        items = [await uow.outbox.get(i) for i in await _outbox_ids(db)]
    assert {item.status for item in items if item} == {OutboxStatus.DEAD}
    assert all("public internet addresses" in (item.last_error or "") for item in items if item)
    record(
        "webhook-ssrf-delivery",
        section=SECTION,
        what="Deliveries to endpoints whose host resolves to loopback at delivery time "
        "(a literal address and a name), with private targets refused.",
        counts={"deliveries_tried": 2, "requests_received": len(receiver.requests)},
        result="both dead unsent with the reason; the receiver got nothing",
    )


async def _outbox_ids(db: Database) -> list[str]:
    async with db.engine.connect() as conn:
        return list((await conn.execute(select(tables.outbox.c.id))).scalars())


async def test_pinning_sends_to_the_vetted_address_under_the_registered_name() -> None:
    pinned = await pin("https://93.184.215.14:8443/x?y=1", allow_private=False)
    assert pinned.url == "https://93.184.215.14:8443/x?y=1"
    assert pinned.host_header == "93.184.215.14:8443"
    assert pinned.sni is None
    v6 = await pin("http://user:pw@[2606:2800:220:1::]/hook", allow_private=False)
    assert v6.url == "http://user:pw@[2606:2800:220:1::]/hook"
    with pytest.raises(TargetRefused):
        await pin("http://localhost/hook", allow_private=False)
    relaxed = await pin("http://localhost/hook", allow_private=True)
    assert relaxed.url == "http://localhost/hook"
    assert relaxed.host_header is None


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("169.254.1.1", False),
        ("100.100.100.200", False),
        ("::ffff:10.0.0.1", False),
        ("::ffff:8.8.8.8", True),
        ("fc00::5", False),
        ("239.255.255.250", False),
        ("192.0.2.10", False),
    ],
)
def test_which_addresses_are_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public
