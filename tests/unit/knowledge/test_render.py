"""Article Markdown rendering: what authors may use survives, anything dangerous does not."""

from __future__ import annotations

import pytest

from carepath.knowledge.render import highlighted_html, plain_text, render_html


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("<script>alert(1)</script>", ["<script", "alert(1)"]),
        ('<a href="javascript:alert(1)">x</a>', ["javascript:"]),
        ("[x](javascript:alert(1))", ['href="javascript']),
        ("[x](JaVaScRiPt:alert(1))", ['href="JaVaScRiPt', 'href="javascript']),
        ('<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>', ["data:text"]),
        ('<img src="x.png" onerror="alert(1)">', ["onerror"]),
        ('<iframe src="https://evil.test"></iframe>', ["<iframe"]),
        ('<p style="background:url(javascript:x)" onclick="y">p</p>', ["style=", "onclick"]),
        ("<svg onload=alert(1)><circle/></svg>", ["<svg", "onload"]),
        ('<form action="https://evil.test"><input name="pw"></form>', ["<form", "<input"]),
        ("<!-- <script>x</script> -->", ["<!--", "<script"]),
        ('<object data="x.swf"></object><embed src="x.swf">', ["<object", "<embed"]),
    ],
)
def test_unsafe_markdown_is_neutralised(markdown: str, forbidden: list[str]) -> None:
    html = render_html(f"Before.\n\n{markdown}\n\nAfter.")
    for bad in forbidden:
        assert bad not in html
    assert "<p>Before.</p>" in html
    assert "After." in html


def test_what_authors_use_survives() -> None:
    markdown = (
        "## Steps\n\n1. Open **Orders**\n2. Press <kbd>Return</kbd>\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ `code` "
        "[help](https://help.test/x) ![pic](https://img.test/p.png)\n\n"
        "<details><summary>More</summary>Hidden text</details>"
    )
    html = render_html(markdown)
    for kept in (
        "<h2>Steps</h2>",
        "<ol>",
        "<strong>Orders</strong>",
        "<kbd>Return</kbd>",
        "<table>",
        "<s>old</s>",
        "<code>code</code>",
        '<a href="https://help.test/x" rel="nofollow noopener">help</a>',
        '<img src="https://img.test/p.png" alt="pic">',
        "<details><summary>More</summary>",
    ):
        assert kept in html


def test_plain_text_is_what_a_reader_sees() -> None:
    text = plain_text("# Title\n\nSome *text* & [a link](https://x.test) <b>bold</b>\n\n- one")
    assert text == "Title Some text & a link bold one"


def test_highlights_are_the_only_markup_in_a_snippet() -> None:
    snippet = 'a <b>"x"</b> & \ue000refund\ue001'
    assert (
        highlighted_html(snippet) == "a &lt;b&gt;&quot;x&quot;&lt;/b&gt; &amp; <mark>refund</mark>"
    )
