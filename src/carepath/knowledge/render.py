"""Article Markdown to safe HTML: markdown-it-py renders, nh3 sanitises with an allowlist.

markdown-it-py is CommonMark-compliant, maintained by the Executable Books project, already in
the tree (Rich depends on it) and pure Python. Raw HTML in Markdown is allowed through the parser
so authors may use <kbd> or <details>; nh3 (the Rust ammonia sanitiser) is the gate that decides
what reaches a browser, whatever the parser let through.
"""

from __future__ import annotations

import functools
import html
import re

import nh3
from markdown_it import MarkdownIt

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "img", "kbd", "li", "ol", "p", "pre", "s",
        "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "code": {"class"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
LINK_REL = "nofollow noopener"
# Private-use characters: search highlights are marked with these, so text must never hold them.
HIGHLIGHT_START = "\ue000"
HIGHLIGHT_END = "\ue001"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ue000\ue001]")


@functools.cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(
        ["table", "strikethrough"]
    )


def render_html(markdown: str) -> str:
    """Sanitised HTML for `markdown`, safe to put into a page as it is."""
    unsafe = _parser().render(_CONTROL.sub("", markdown))
    return nh3.clean(
        unsafe,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


def plain_text(markdown: str) -> str:
    """The words a reader sees, for the search index and its snippets: no markup, no URLs."""
    text = nh3.clean(_parser().render(_CONTROL.sub("", markdown)), tags=set())
    return " ".join(html.unescape(text).split())


def highlighted_html(snippet: str) -> str:
    """A search snippet escaped, then with its highlight marks turned into <mark> elements."""
    escaped = html.escape(snippet.replace("\n", " "), quote=True)
    return escaped.replace(HIGHLIGHT_START, "<mark>").replace(HIGHLIGHT_END, "</mark>")


def strip_highlights(snippet: str) -> str:
    return snippet.replace(HIGHLIGHT_START, "").replace(HIGHLIGHT_END, "")
