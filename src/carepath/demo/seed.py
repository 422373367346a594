"""Seeding the demo company through the real actions: tenant, people, configuration, channels,
articles and a trained assistant."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from carepath.access import Principal
from carepath.actions import do_create_tenant, do_create_user
from carepath.actions.articles import do_upsert_article
from carepath.actions.channels import do_create_channel_account
from carepath.actions.tenant_config import do_apply_tenant_config
from carepath.demo import company
from carepath.domain.contacts import Channel
from carepath.domain.tenants import Tenant
from carepath.domain.users import User
from carepath.knowledge.articles import ArticleStatus
from carepath.knowledge.importing import parse_article
from carepath.secretbox import SecretBox
from carepath.settings import Settings
from carepath.storage import Database
from carepath.types import Role


@dataclass(frozen=True)
class Seeded:
    tenant: Tenant
    system: Principal
    users: dict[str, User]  # by email

    def principal(self, email: str) -> Principal:
        user = self.users[email]
        return Principal(tenant_id=self.tenant.id, role=user.role, user_id=user.id)

    @property
    def agents(self) -> list[Principal]:
        return [self.principal(p.email) for p in company.PEOPLE if p.role is not Role.ADMIN]


async def seed_company(db: Database, settings: Settings, *, shop_url: str) -> Seeded:
    tenant = await do_create_tenant(db, slug=company.SLUG, name=company.NAME, actor="system:demo")
    system = Principal.for_system(tenant.id, "demo")
    # Password hashing is deliberately slow: the people are hashed side by side.
    created = await asyncio.gather(
        *(
            do_create_user(
                db,
                system,
                email=person.email,
                display_name=person.name,
                role=person.role,
                password=company.PASSWORD,
            )
            for person in company.PEOPLE
        )
    )
    users = {user.email: user for user in created}
    await apply_company_config(db, system, shop_url)
    await _channels(db, settings, system)
    for file in company.article_files():
        parsed = parse_article(file.read_text(encoding="utf-8"), default_slug=file.name[:-3])
        await do_upsert_article(db, system, parsed.fields, status=ArticleStatus.PUBLISHED)
    return Seeded(tenant=tenant, system=system, users=users)


async def apply_company_config(db: Database, system: Principal, shop_url: str) -> None:
    """The company's configuration, its flows calling the order system at `shop_url` (a new
    port each run, so an earlier --data-dir gets it again)."""
    source = company.config_source(shop_url)
    await do_apply_tenant_config(db, system, source, name="demo/company.yaml")


async def load_seeded(db: Database) -> Seeded | None:
    """The demo company of an earlier run (`--data-dir`), or None."""
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.by_slug(company.SLUG)
        if tenant is None:
            return None
        users = {}
        for person in company.PEOPLE:
            user = await uow.users.by_email(tenant.id, person.email)
            if user is not None:
                users[user.email] = user
    return Seeded(tenant=tenant, system=Principal.for_system(tenant.id, "demo"), users=users)


async def _channels(db: Database, settings: Settings, system: Principal) -> None:
    box = SecretBox(settings.secret())
    twilio = {
        "config": {"account_sid": company.ACCOUNT_SID},
        "secrets": {"auth_token": company.AUTH_TOKEN},
    }
    accounts = [
        (Channel.EMAIL, "Acme Outfitters Support", company.SUPPORT_EMAIL, {}),
        (Channel.SMS, "Texting line", company.SMS_NUMBER, twilio),
        (Channel.VOICE, "Phone line", company.VOICE_NUMBER, twilio),
        (
            Channel.WHATSAPP,
            "WhatsApp",
            company.WHATSAPP_PHONE_ID,
            {
                "secrets": {
                    "app_secret": company.APP_SECRET,
                    "verify_token": "demo-verify-token",
                    "access_token": "demo-access-token",
                }
            },
        ),
    ]
    for channel, name, address, extra in accounts:
        await do_create_channel_account(
            db,
            system,
            box,
            channel=channel,
            name=name,
            address=address,
            config=extra.get("config"),
            secrets=extra.get("secrets"),
        )


async def train_assistant(db: Database, settings: Settings, seeded: Seeded) -> str:
    """Train the tenant's model where the worker looks for it; returns the version."""
    from carepath.actions.assistant import do_train_tenant_model

    manifest = await do_train_tenant_model(db, seeded.system, settings.data_dir)
    return manifest.version
