"""Email bodies as text: sanitised HTML for display, HTML to text, and replies without the quoted
history and signature below them."""

from __future__ import annotations

import re

import nh3
from inscriptis import get_text
from inscriptis.css_profiles import CSS_PROFILES
from inscriptis.model.config import ParserConfig

# Reply headers of the common mail clients, in the languages customers most often write in.
# Gmail and Apple Mail may wrap a long one over two lines, so they are matched on a joined pair.
_ATTRIBUTION = re.compile(
    r"^(?:On\b.{0,300}\bwrote"
    r"|Am\b.{0,300}\bschrieb\b.{0,300}:"
    r"|Le\b.{0,300}\ba écrit"
    r"|El\b.{0,300}\bescribió"
    r"|Op\b.{0,300}\bschreef\b.{0,300}:"
    r"|Il\b.{0,300}\bha scritto"
    r"|Em\b.{0,300}\bescreveu)\s*:?\s*$",
    re.IGNORECASE,
)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(?:Original Message|Ursprüngliche Nachricht|Message d'origine"
    r"|Mensaje original|Oorspronkelijk bericht|Forwarded message)\s*-{2,}\s*$",
    re.IGNORECASE,
)
# Outlook on the web and newer Outlook: a rule, then the quoted message's own header block.
_OUTLOOK_RULE = re.compile(r"^\s*_{10,}\s*$")
_HEADER_BLOCK = re.compile(r"^\s*\**(?:From|Von|De|Van|Da)\s*:\**\s", re.IGNORECASE)
# Outlook's HTML quote has no rule once it is text: its "From:" line followed by "Sent:".
_SENT_LINE = re.compile(
    r"^\s*\**(?:Sent|Date|Gesendet|Datum|Envoyé|Enviado|Verzonden|Inviato)\s*:", re.IGNORECASE
)
_MOBILE_FOOTER = re.compile(
    r"^\s*(?:Sent from my \w+|Sent from (?:Mail|Outlook) for \w+|Get Outlook for \w+"
    r"|Von meinem \w+ gesendet|Envoyé de mon \w+)\b.*$",
    re.IGNORECASE,
)
_BLANK_RUNS = re.compile(r"\n{3,}")
# Browser layout; inscriptis's default profile indents every nested <div>.
_LAYOUT = ParserConfig(css=CSS_PROFILES["strict"])
# Elements whose text is never part of what the sender wrote.
_DROPPED_CONTENT = {"script", "style", "head", "title", "noscript", "template"}


def sanitize_html(html: str) -> str:
    """HTML that is safe to show to agents: no scripts, styles, event handlers or odd URLs."""
    return nh3.clean(html, clean_content_tags=_DROPPED_CONTENT).strip()


def html_to_text(html: str) -> str:
    """The readable text of an HTML mail, laid out (paragraphs, lists, tables) by inscriptis."""
    # Sanitised first, so the text of <script> and <style> elements never becomes message text.
    return normalize_text(get_text(sanitize_html(html), _LAYOUT))


def normalize_text(text: str) -> str:
    """Unix line ends, no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return _BLANK_RUNS.sub("\n\n", "\n".join(lines)).strip()


def trim_reply(text: str) -> str:
    """What the sender wrote this time: cut at the quoted earlier message or the signature,
    quoted (">") lines dropped. The whole text when nothing would be left."""
    lines = normalize_text(text).split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _ends_reply(line, lines[index + 1] if index + 1 < len(lines) else ""):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    while kept and _MOBILE_FOOTER.match(kept[-1]):
        kept.pop()
    trimmed = normalize_text("\n".join(kept))
    return trimmed or normalize_text(text)


def _ends_reply(line: str, following: str) -> bool:
    # "-- " is the signature delimiter (RFC 3676); clients that strip trailing spaces leave "--".
    if line in ("-- ", "--"):
        return True
    if _ORIGINAL_MESSAGE.match(line):
        return True
    if _OUTLOOK_RULE.match(line) and _HEADER_BLOCK.match(following):
        return True
    if _HEADER_BLOCK.match(line) and _SENT_LINE.match(following):
        return True
    stripped = line.strip()
    if _ATTRIBUTION.match(stripped):
        return True
    return bool(
        stripped[:3].lower() in ("on ", "am ", "le ", "el ", "op ", "il ", "em ")
        and _ATTRIBUTION.match(f"{stripped} {following.strip()}")
    )
