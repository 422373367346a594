"""Article files: Markdown with YAML front matter (title, slug, category, intents, tags, locale,
channels, status), read into the fields the article actions take."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from carepath.errors import InvalidInput
from carepath.knowledge.articles import MAX_BODY, ArticleStatus, slugify

FRONT_MATTER_KEYS = frozenset(
    {"title", "slug", "category", "intents", "tags", "locale", "channels", "status"}
)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_HEADING = re.compile(r"\A\s*#[ \t]+(.+?)[ \t#]*(?:\r?\n|\Z)")


@dataclass(frozen=True)
class ArticleFile:
    fields: dict[str, Any]
    status: ArticleStatus | None


def read_article_file(path: Path) -> ArticleFile:
    """The article in `path`; InvalidInput saying what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput("not UTF-8 text") from exc
    if len(text) > MAX_BODY + 10_000:
        raise InvalidInput(f"too large (an article body is at most {MAX_BODY} characters)")
    return parse_article(text, default_slug=slugify(path.stem))


def parse_article(text: str, *, default_slug: str) -> ArticleFile:
    meta: dict[str, Any] = {}
    body = text
    match = _FRONT_MATTER.match(text)
    if match:
        try:
            loaded = yaml.safe_load(match.group(1))
        except yaml.YAMLError as exc:
            raise InvalidInput(f"front matter is not valid YAML: {exc}") from exc
        if loaded is not None and not isinstance(loaded, dict):
            raise InvalidInput("front matter must be a mapping of keys to values")
        meta = dict(loaded or {})
        body = text[match.end() :]
    unknown = set(meta) - FRONT_MATTER_KEYS
    if unknown:
        allowed = ", ".join(sorted(FRONT_MATTER_KEYS))
        raise InvalidInput(f"unknown front matter keys {sorted(unknown)}; allowed: {allowed}")
    if not meta.get("title"):
        heading = _HEADING.match(body)
        if heading is None:
            raise InvalidInput("no title: give `title:` in the front matter or start with '# '")
        meta["title"] = heading.group(1)
        body = body[heading.end() :]
    if not body.strip():
        raise InvalidInput("the article has no body")
    status = _status(meta.pop("status", None))
    fields = {key: value for key, value in meta.items() if value is not None}
    fields["title"] = str(fields["title"])
    fields["slug"] = str(fields.get("slug") or default_slug)
    fields["body"] = body
    return ArticleFile(fields=fields, status=status)


def _status(value: Any) -> ArticleStatus | None:
    if value is None:
        return None
    try:
        return ArticleStatus(str(value).strip().lower())
    except ValueError as exc:
        raise InvalidInput(f"status must be draft or published, not {value!r}") from exc
