"""Search words, gap keys, article files with front matter, and vote tokens and limits."""

from __future__ import annotations

import pytest

from carepath.errors import InvalidInput
from carepath.knowledge.articles import ArticleStatus
from carepath.knowledge.feedback import FeedbackTicket, VoteLimiter, read_ticket, sign_ticket
from carepath.knowledge.importing import parse_article
from carepath.knowledge.text import clean_query, gap_key, query_terms


def test_query_terms_drop_stop_words_and_fold_accents() -> None:
    assert query_terms("My refund still hasn't arrived!") == ["refund", "arrived"]
    assert query_terms("Café crème, café") == ["cafe", "creme"]
    assert query_terms("the and of") == []


def test_gap_keys_group_the_same_need_in_other_words() -> None:
    assert gap_key("My refund hasn't arrived") == gap_key("refunds not arrived?")
    assert gap_key("printer cartridges") == gap_key("Printer cartridge")


def test_card_numbers_never_reach_a_stored_query() -> None:
    assert "4111111111111111" not in clean_query("charged twice on 4111111111111111")


def test_front_matter_is_read() -> None:
    text = (
        "---\ntitle: Refund timing\ncategory: Refunds\nintents: [refund_not_received]\n"
        "tags: [refund]\nlocale: en-GB\nchannels: [web, chat]\nstatus: published\n---\n"
        "Refunds take **5 days**.\n"
    )
    parsed = parse_article(text, default_slug="refund-timing-file")
    assert parsed.status is ArticleStatus.PUBLISHED
    assert parsed.fields == {
        "title": "Refund timing",
        "slug": "refund-timing-file",
        "category": "Refunds",
        "intents": ["refund_not_received"],
        "tags": ["refund"],
        "locale": "en-GB",
        "channels": ["web", "chat"],
        "body": "Refunds take **5 days**.\n",
    }


def test_a_file_without_front_matter_takes_its_title_from_the_heading() -> None:
    parsed = parse_article("# Cancel an order\n\nPress cancel.\n", default_slug="cancel")
    assert parsed.fields["title"] == "Cancel an order"
    assert parsed.fields["body"].strip() == "Press cancel."
    assert parsed.status is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("---\ntitle: [unclosed\n---\nbody", "not valid YAML"),
        ("---\n- a list\n---\nbody", "mapping"),
        ("---\ntitle: T\nauthor: me\n---\nbody", "unknown front matter keys"),
        ("no heading here", "no title"),
        ("---\ntitle: T\nstatus: live\n---\nbody", "draft or published"),
        ("---\ntitle: T\n---\n\n", "no body"),
    ],
)
def test_bad_files_say_what_is_wrong(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem):
        parse_article(text, default_slug="x")


def test_vote_tokens_are_signed_and_name_their_article() -> None:
    ticket = FeedbackTicket("ten_1", "art_1", "kbs_1")
    assert read_ticket("k" * 40, sign_ticket("k" * 40, ticket)) == ticket
    with pytest.raises(InvalidInput):
        read_ticket("other-key" * 5, sign_ticket("k" * 40, ticket))


def test_one_vote_per_address_and_article_per_window() -> None:
    limiter = VoteLimiter(window_s=60, max_tracked=2)
    assert limiter.allow("1.2.3.4", "art_1", now=0)
    assert not limiter.allow("1.2.3.4", "art_1", now=30)
    assert limiter.allow("1.2.3.4", "art_2", now=30)
    assert limiter.allow("1.2.3.4", "art_1", now=61)
    # the oldest entries are forgotten past the bound
    assert limiter.allow("5.6.7.8", "art_1", now=62)
    assert limiter.allow("1.2.3.4", "art_2", now=63)
