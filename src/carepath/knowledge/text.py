"""Words of a search: the terms a query is matched on, and the key a content gap is grouped by."""

from __future__ import annotations

import re
import unicodedata

from carepath.domain.masking import mask_card_numbers

MAX_QUERY = 500
MAX_TERMS = 16
_WORD = re.compile(r"\w+", re.UNICODE)
# Words that say nothing about what an article is about; both backends see the same terms.
_STOP_WORDS = """
    a about after again all am an and any are as at be been before being but by can cannot could
    did do does doesn don dont for from get got had has hasn have haven having he her here
    hers him his how i if in into is isn it its just me more most my no nor not now of off on
    once only or other our out over please same she should so some still such t than that the
    their them then there these they this those through to too under until up very was wasn we
    were what when where which while who why will with won would you your yet s d ll m re ve"""
STOP_WORDS = frozenset(_STOP_WORDS.split())


def clean_query(text: str) -> str:
    """A query as it may be stored: masked, single-spaced, bounded."""
    return " ".join(mask_card_numbers(text).split())[:MAX_QUERY]


def query_terms(text: str) -> list[str]:
    """Distinct meaningful words of `text`, lower-cased and accent-folded, in order."""
    folded = unicodedata.normalize("NFKD", clean_query(text).lower())
    ascii_ish = "".join(c for c in folded if not unicodedata.combining(c))
    terms: list[str] = []
    for word in _WORD.findall(ascii_ish):
        if word in STOP_WORDS or word.replace("_", "") == "" or word in terms:
            continue
        terms.append(word)
    return terms[:MAX_TERMS]


def gap_key(text: str) -> str:
    """What groups "My refund hasn't arrived!" with "refund not arrived": sorted light stems."""
    return " ".join(sorted({_stem(term) for term in query_terms(text)}))


def _stem(word: str) -> str:
    # Enough to fold plurals and tenses together for grouping; search itself stems properly.
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word[:-1] if word.endswith("e") and len(word) > 3 else word
