"""Scraped HTML made safe at render, and what the story page reads from it."""

from __future__ import annotations

from aggregator.web.sanitize import linked_in, sanitize_html


def test_linked_in_finds_a_file_the_sanitised_text_links_even_with_a_query() -> None:
    html = sanitize_html('<p><a href="/pobierz.php?id=7&amp;typ=pdf">Wniosek</a></p>', "https://rops.pl/a/")
    assert linked_in({"url": "https://rops.pl/pobierz.php?id=7&typ=pdf"}, html)
    assert not linked_in({"url": "https://rops.pl/pobierz.php?id=8&typ=pdf"}, html)
    assert not linked_in({"url": None}, html) and not linked_in({}, html)
