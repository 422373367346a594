"""Signing in to the server-rendered workspace as a browser does: login form, cookie, and the
CSRF token the pages' forms carry."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

import httpx
from fastapi import FastAPI

from carepath.actions.ingest import do_ingest_inbound
from carepath.domain import User
from carepath.domain.contacts import Channel
from carepath.storage import Database
from tests.factories import PASSWORD, Company
from tests.inbound import inbound

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
HOSTILE_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


@dataclass
class Browser:
    """One user's browser on the workspace: its cookies, and the CSRF token of its session."""

    http: httpx.AsyncClient
    user: User
    csrf: str

    async def get(self, path: str) -> httpx.Response:
        return await self.http.get(path)

    async def post(self, path: str, form: dict[str, str], *, csrf: bool = True) -> httpx.Response:
        data = {**form, "csrf_token": self.csrf} if csrf else form
        return await self.http.post(path, data=data)


async def log_in(app: FastAPI, company: Company, user: User) -> Browser:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver")
    page = await http.get("/app/login")
    assert page.status_code == 200
    response = await http.post(
        "/app/login",
        data={
            "tenant": company.tenant.slug,
            "email": user.email,
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
        },
    )
    assert response.status_code == 303, response.text
    inbox = await http.get("/app")
    assert inbox.status_code == 200, inbox.text
    return Browser(http, user, csrf_of(inbox.text))


async def hostile_chat(db: Database, company: Company, visitor: str = "v-hostile") -> str:
    """A chat whose customer wrote markup; the case id."""
    result = await do_ingest_inbound(
        db, inbound(company.tenant.id, Channel.CHAT, visitor, f"refund {HOSTILE}")
    )
    return str(result.case.id)


class _FormReader(HTMLParser):
    """What a browser would submit from one form, as the page rendered it."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._textarea: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "disabled" in a:
            return
        name = a.get("name", "")
        if tag == "input" and name:
            if a.get("type") not in ("checkbox", "radio") or "checked" in a:
                self.values[name] = a.get("value", "")
        elif tag == "select":
            self._select, self._first_option = name, None
        elif tag == "option" and self._select is not None:
            value = a.get("value")
            if self._first_option is None:
                self._first_option = value
                self.values.setdefault(self._select, value or "")
            if "selected" in a:
                self.values[self._select] = value if value is not None else "\0text"
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_data(self, data: str) -> None:
        if self._select and self.values.get(self._select) == "\0text":
            self.values[self._select] = data.strip()
        if self._textarea:
            self.values[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def form_values(html: str, form_id: str) -> dict[str, str]:
    """The fields of form `form_id` with the values a browser would post unchanged."""
    reader = _FormReader(form_id)
    reader.feed(html)
    assert reader.values, f"no form {form_id!r} with fields on the page"
    return reader.values
