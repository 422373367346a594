"""Runtime settings, read from CAREPATH_* environment variables (and a .env file when present).

Built once by `create_app` or a CLI command, never at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from limits import parse as parse_rate
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from carepath.errors import ConfigurationError

ENV_PREFIX = "CAREPATH_"
# Used only by `carepath demo`; refused everywhere else so no deployment runs on a public secret.
DEMO_SECRET_KEY = "carepath-demo-secret-key-not-for-production"  # noqa: S105
MIN_SECRET_KEY_LENGTH = 32
SUPPORTED_DRIVERS = {"sqlite+aiosqlite", "postgresql+asyncpg"}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", extra="ignore", frozen=True
    )

    data_dir: Path = Field(
        default=Path("data"), description="Where SQLite, attachments and models live."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite at DATA_DIR/carepath.db. "
        "PostgreSQL: postgresql+asyncpg://user@host:5432/dbname",
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs session cookies and links; at least 32 characters."
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0 to fan events out across processes."
    )
    demo_mode: bool = Field(default=False, description="Set by `carepath demo` only.")
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="The URL customers and providers reach carepath at (links, signatures).",
    )
    session_max_age_s: Annotated[int, Field(gt=0)] = Field(
        default=12 * 3600, description="How long a login lasts."
    )
    cookie_secure: bool = Field(
        default=True, description="Send the session cookie over HTTPS only (off in demo mode)."
    )
    twilio_api_url: str = Field(
        default="https://api.twilio.com",
        description="Base URL of the Twilio-compatible REST API (the local emulator in tests).",
    )
    graph_api_url: str = Field(
        default="https://graph.facebook.com",
        description="Base URL of Meta's Graph API for WhatsApp, Messenger and Instagram (the "
        "local emulator in tests).",
    )
    graph_api_version: str = Field(
        default="v21.0", pattern=r"^v\d+\.\d+$", description="Graph API version, e.g. v21.0."
    )
    log_json: bool = Field(default=False, description="Log one JSON object per line.")
    log_level: str = Field(default="INFO")
    db_pool_size: Annotated[int, Field(gt=0)] = Field(default=10)
    run_worker: bool = Field(
        default=True,
        description="Run the outbox worker (webhooks, deliveries) inside each server process; "
        "off when `carepath worker` runs on its own.",
    )
    outbox_lease_s: Annotated[float, Field(gt=0)] = Field(
        default=60.0,
        description="How long a worker holds an outbox item; a crashed worker's items run "
        "again after this. Longer than the slowest provider call.",
    )
    email_max_message_bytes: Annotated[int, Field(gt=0)] = Field(
        default=25 * 1024 * 1024, description="Larger inbound mail is refused (SMTP 552)."
    )
    email_max_attachment_bytes: Annotated[int, Field(gt=0)] = Field(
        default=10 * 1024 * 1024, description="Larger attachments are recorded, not stored."
    )
    attachment_types: str = Field(
        # No image/*: an SVG is a document that can carry script.
        default="image/png,image/jpeg,image/gif,image/webp,image/heic,image/tiff,"
        "application/pdf,text/plain,text/csv,message/rfc822,application/msword,"
        "application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.*,"
        "application/vnd.oasis.opendocument.*",
        description="Comma-separated media types stored from inbound messages; `type/*` and "
        "`prefix.*` wildcards. Others are recorded as rejected.",
    )
    smtp_url: str | None = Field(
        default=None,
        description="Outgoing mail server for email accounts without their own smtp_host: "
        "smtp://user:pass@host:25, smtp+starttls://…:587 or smtps://…:465.",
    )
    smtp_listen_host: str = Field(default="127.0.0.1", description="SMTP listener interface.")
    smtp_listen_port: int | None = Field(
        default=None, description="Run the inbound SMTP listener in `carepath serve` on this port."
    )
    imap_poll_interval_s: Annotated[float, Field(ge=0)] = Field(
        default=60.0, description="Seconds between IMAP polls of each mailbox; 0 turns it off."
    )
    bench_ceiling: bool = Field(
        default=False,
        description="Benchmarks only: mount the bare SMS endpoint /bench/ceiling/sms that parses "
        "a webhook and answers 200, the ceiling the ingest benchmark compares against.",
    )
    # Security limits (docs/subsystems/security.md); counted in Redis when redis_url is set.
    rate_limits: bool = Field(default=True, description="Rate-limit login and public endpoints.")
    rate_limit_login: str = Field(
        default="20/minute", description="Login attempts per client address, e.g. 20/minute."
    )
    rate_limit_public: str = Field(
        default="120/minute",
        description="Calls per client address to each public endpoint group (widget session "
        "and messages, identify/track, surveys, help-centre search, continuation links).",
    )
    login_lockout_failures: Annotated[int, Field(gt=0)] = Field(
        default=5, description="Failed logins to one account that lock it out for a while."
    )
    login_lockout_address_failures: Annotated[int, Field(gt=0)] = Field(
        default=20, description="Failed logins from one client address that lock it out."
    )
    login_lockout_s: Annotated[int, Field(gt=0)] = Field(
        default=900, description="How long failures count (and a lockout lasts), in seconds."
    )
    webhook_account_cache_s: Annotated[float, Field(ge=0)] = Field(
        default=2.0,
        description="Seconds each process keeps a provider webhook's tenant and number once "
        "found (one read less per message); a deactivated or moved number is still accepted "
        "this long. 0 turns it off.",
    )
    webhook_allow_private_targets: bool = Field(
        default=False,
        description="Let webhook endpoints be loopback or private addresses (development and "
        "tests only: otherwise a webhook could reach the internal network).",
    )

    @field_validator("rate_limit_login", "rate_limit_public")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        try:
            parse_rate(value)
        except ValueError as exc:
            raise ValueError(f"not a rate like 20/minute ({exc})") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL ({exc})") from exc
        # Accept the common short forms and pin the async drivers carepath is tested with.
        drivername = {
            "sqlite": "sqlite+aiosqlite",
            "postgresql": "postgresql+asyncpg",
            "postgres": "postgresql+asyncpg",
        }.get(url.drivername, url.drivername)
        if drivername not in SUPPORTED_DRIVERS:
            raise ValueError(
                f"driver {url.drivername!r} is not supported; use sqlite:///PATH or "
                "postgresql://USER@HOST:PORT/DB"
            )
        return url.set(drivername=drivername).render_as_string(hide_password=False)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'carepath.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")

    def secret(self) -> str:
        """The signing key. Outside demo mode a missing, short or demo key is refused."""
        key = self.secret_key.get_secret_value() if self.secret_key else None
        if self.demo_mode:
            return key or DEMO_SECRET_KEY
        if not key:
            raise ConfigurationError(
                f"{ENV_PREFIX}SECRET_KEY is not set. Generate one with "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'` and set it "
                "in the environment (or run `carepath demo` to try carepath without one).",
                setting=f"{ENV_PREFIX}SECRET_KEY",
            )
        if key == DEMO_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                f"{ENV_PREFIX}SECRET_KEY is the demo key or shorter than "
                f"{MIN_SECRET_KEY_LENGTH} characters; set a long random secret.",
                setting=f"{ENV_PREFIX}SECRET_KEY",
            )
        return key


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment, turning validation failures into one clear error."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc
