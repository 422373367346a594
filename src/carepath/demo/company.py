"""Acme Outfitters, the demo company: its people, channels, configuration and content files."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from typing import Any
from urllib.parse import urlsplit

import yaml

from carepath.types import Role

SLUG = "demo"
NAME = "Acme Outfitters"
DOMAIN = "acme-outfitters.example.com"
PASSWORD = "demo-password"  # noqa: S105 - printed on screen for the demo by design
ADMIN_EMAIL = f"admin@{DOMAIN}"
SUPERVISOR_EMAIL = f"maya.lindqvist@{DOMAIN}"
AGENT_EMAIL = f"ann.jensen@{DOMAIN}"
SUPPORT_EMAIL = f"support@{DOMAIN}"
SMS_NUMBER = "+31205550199"
VOICE_NUMBER = "+31205550100"
WHATSAPP_NUMBER = "+31205550199"
WHATSAPP_PHONE_ID = "106540352242922"
ACCOUNT_SID = "AC" + "d3" * 16
AUTH_TOKEN = "demo-twilio-auth-token"  # noqa: S105 - the local emulator's, not a real one
APP_SECRET = "demo-meta-app-secret"  # noqa: S105 - the local emulator's, not a real one


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: Role


PEOPLE = (
    Person(ADMIN_EMAIL, "Demo Admin", Role.ADMIN),
    Person(SUPERVISOR_EMAIL, "Maya Lindqvist", Role.SUPERVISOR),
    Person(AGENT_EMAIL, "Ann Jensen", Role.AGENT),
    Person(f"eli.novak@{DOMAIN}", "Eli Novak", Role.AGENT),
    Person(f"bo.chen@{DOMAIN}", "Bo Chen", Role.AGENT),
    Person(f"carla.mendes@{DOMAIN}", "Carla Mendes", Role.AGENT),
    Person(f"dev.patel@{DOMAIN}", "Dev Patel", Role.AGENT),
    Person(f"fatima.zahra@{DOMAIN}", "Fatima Zahra", Role.AGENT),
)


def _files() -> Traversable:
    return resources.files("carepath.demo")


def intent_examples() -> dict[str, list[str]]:
    loaded: dict[str, list[str]] = yaml.safe_load(
        (_files() / "intents.yaml").read_text(encoding="utf-8")
    )
    return loaded


def config_source(shop_url: str | None = None) -> str:
    """company.yaml with each intent's examples from intents.yaml: one file for the tenant.
    `shop_url`: where the demo's order system listens, for the flows that call it."""
    config: dict[str, Any] = yaml.safe_load((_files() / "company.yaml").read_text(encoding="utf-8"))
    examples = intent_examples()
    for intent in config["intents"]:
        intent["examples"] = examples.get(intent["name"], [])
    for flow in config.get("flows", []):
        if shop_url and "call" in flow:
            flow["call"]["url"] = shop_url + urlsplit(flow["call"]["url"]).path
    return str(yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100))


def order_number(customer_key: int) -> str:
    """The order a demo customer asks about, as Acme's order system numbers them."""
    return f"A{10000 + customer_key:05d}"


def article_files() -> list[Traversable]:
    folder = _files() / "articles"
    return sorted((f for f in folder.iterdir() if f.name.endswith(".md")), key=lambda f: f.name)
