"""Knowledge articles: Markdown with a category, intents, tags, a locale and channel visibility."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from carepath.domain.clock import utcnow
from carepath.domain.contacts import Channel
from carepath.domain.masking import mask_card_numbers
from carepath.errors import IllegalTransition, InvalidInput
from carepath.ids import TenantId, new_id

MAX_TITLE = 200
MAX_BODY = 100_000
MAX_LABEL = 80
MAX_LABELS = 30
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LOCALE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
LABEL = re.compile(r"^[\w][\w .:/-]*$")
DEFAULT_LOCALE = "en"
# Visible wherever a customer may read it unless the author narrows it; no channels at all makes
# an internal article that only agents find.
ALL_CHANNELS: tuple[Channel, ...] = tuple(Channel)


class ArticleStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


@dataclass(eq=False)
class Article:
    """One help article. Text is masked on the way in, so no card number is ever stored."""

    tenant_id: TenantId
    slug: str
    title: str
    body: str
    search_text: str
    category: str | None = None
    intents: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    locale: str = DEFAULT_LOCALE
    channels: list[str] = field(default_factory=lambda: [c.value for c in ALL_CHANNELS])
    status: ArticleStatus = ArticleStatus.DRAFT
    helpful_count: int = 0
    not_helpful_count: int = 0
    version: int = 1
    id: str = field(default_factory=lambda: new_id("article"))
    created_at: datetime = field(default_factory=utcnow)
    updated_at: datetime = field(default_factory=utcnow)
    published_at: datetime | None = None

    def visible_on(self, channel: Channel) -> bool:
        return channel.value in self.channels

    def publish(self, now: datetime) -> None:
        if self.status is ArticleStatus.PUBLISHED:
            raise IllegalTransition("the article is already published", article_id=self.id)
        self.status = ArticleStatus.PUBLISHED
        self.published_at = now
        self._touch(now)

    def unpublish(self, now: datetime) -> None:
        if self.status is ArticleStatus.DRAFT:
            raise IllegalTransition("the article is not published", article_id=self.id)
        self.status = ArticleStatus.DRAFT
        self._touch(now)

    def rate(self, *, helpful: bool) -> None:
        if helpful:
            self.helpful_count += 1
        else:
            self.not_helpful_count += 1

    def _touch(self, now: datetime) -> None:
        self.version += 1
        self.updated_at = now


def clean_slug(value: str) -> str:
    slug = value.strip().lower()
    if not 1 <= len(slug) <= MAX_LABEL or not SLUG.match(slug):
        raise InvalidInput(
            "a slug is lower-case letters, digits and single dashes, e.g. refund-timing",
            field="slug",
        )
    return slug


def slugify(title: str) -> str:
    words = re.findall(r"[a-z0-9]+", title.lower())
    return "-".join(words)[:MAX_LABEL].strip("-") or "article"


def clean_title(value: str) -> str:
    title = " ".join(mask_card_numbers(value).split())
    if not 1 <= len(title) <= MAX_TITLE:
        raise InvalidInput(f"a title is 1-{MAX_TITLE} characters", field="title")
    return title


def clean_body(value: str) -> str:
    if len(value) > MAX_BODY:
        raise InvalidInput(f"an article body is at most {MAX_BODY} characters", field="body")
    return mask_card_numbers(value.replace("\r\n", "\n")).strip() + "\n"


def clean_locale(value: str) -> str:
    locale = value.strip().replace("_", "-")
    if not LOCALE.match(locale):
        raise InvalidInput("a locale is a language tag such as en or en-GB", field="locale")
    return locale


def clean_category(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    return clean_labels([value], field="category")[0]


def clean_labels(values: Iterable[str], *, field: str) -> list[str]:
    """Intents, tags: trimmed, unique, in the order given."""
    labels: list[str] = []
    for raw in values:
        label = " ".join(str(raw).split())
        if not 1 <= len(label) <= MAX_LABEL or not LABEL.match(label):
            raise InvalidInput(
                f"{label!r} is not a valid name (letters, digits, _-.:/)", field=field
            )
        if label not in labels:
            labels.append(label)
    if len(labels) > MAX_LABELS:
        raise InvalidInput(f"at most {MAX_LABELS} {field}", field=field)
    return labels


def clean_channels(values: Sequence[str]) -> list[str]:
    channels: list[str] = []
    for raw in values:
        try:
            channel = Channel(str(raw).strip().lower())
        except ValueError as exc:
            known = ", ".join(c.value for c in Channel)
            raise InvalidInput(
                f"unknown channel {raw!r}: one of {known}", field="channels"
            ) from exc
        if channel.value not in channels:
            channels.append(channel.value)
    return channels
