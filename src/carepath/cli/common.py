"""What every command shares: settings, the database, running a coroutine, and error reporting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from sqlalchemy.engine import make_url

from carepath.access import Principal
from carepath.errors import CarepathError, ConfigurationError, NotFound
from carepath.settings import ENV_PREFIX, Settings, load_settings
from carepath.storage import Database
from carepath.storage.migrate import current_revision, head_revision

console = Console()
err_console = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")
CONNECT_TIMEOUT_S = 10.0


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine; expected errors become a clear message and an exit code."""
    try:
        return asyncio.run(coro)
    except ConfigurationError as exc:
        fail(exc.message, code=2)
    except CarepathError as exc:
        fail(exc.message)


def settings_or_exit(**overrides: Any) -> Settings:
    try:
        return load_settings(**overrides)
    except ConfigurationError as exc:
        fail(exc.message, code=2)


def display_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.effective_database_url, pool_size=2)
    try:
        yield db
    finally:
        await db.dispose()


async def check_database(db: Database, settings: Settings, *, require_current: bool) -> None:
    """Fail fast, naming the setting, when the database is unreachable or behind the code."""
    setting = f"{ENV_PREFIX}DATABASE_URL"
    shown = display_url(settings.effective_database_url)
    try:
        revision = await asyncio.wait_for(current_revision(db), CONNECT_TIMEOUT_S)
    except TimeoutError as exc:
        raise ConfigurationError(
            f"{setting}: no answer from {shown} within {CONNECT_TIMEOUT_S:.0f}s; is the server up?",
            setting=setting,
        ) from exc
    except Exception as exc:  # any driver or OS error: report it with the setting to fix
        raise ConfigurationError(
            f"{setting}: cannot connect to {shown}: {exc}", setting=setting
        ) from exc
    if require_current and revision != head_revision():
        raise ConfigurationError(
            f"the database at {shown} is at schema {revision or '(empty)'} but this carepath "
            f"needs {head_revision()}: run `carepath migrate` first",
            setting=setting,
        )


async def tenant_principal(db: Database, slug: str, name: str) -> Principal:
    async with db.uow(write=False) as uow:
        tenant = await uow.tenants.by_slug(slug)
    if tenant is None:
        raise NotFound(f"no tenant {slug!r}; list them with `carepath tenant list`")
    return Principal.for_system(tenant.id, name)
