"""Scraped HTML made safe at render, and what the story page reads from it."""

from __future__ import annotations

import re

from aggregator.web.sanitize import linked_in, sanitize_html


def test_linked_in_finds_a_file_the_sanitised_text_links_even_with_a_query() -> None:
    html = sanitize_html('<p><a href="/pobierz.php?id=7&amp;typ=pdf">Wniosek</a></p>', "https://rops.pl/a/")
    assert linked_in({"url": "https://rops.pl/pobierz.php?id=7&typ=pdf"}, html)
    assert not linked_in({"url": "https://rops.pl/pobierz.php?id=8&typ=pdf"}, html)
    assert not linked_in({"url": None}, html) and not linked_in({}, html)


def test_phone_links_stay_links() -> None:
    """Ingest keeps tel: links; the render's allow-list lacked the scheme and took the href away,
    so a reader on a phone could not tap the office's number. javascript: still goes."""
    html = sanitize_html('<p><a href="tel:+48221234567">22 123 45 67</a> <a href="javascript:x()">x</a></p>', None)
    assert '<a href="tel:+48221234567" rel="nofollow noopener noreferrer">22 123 45 67</a>' in html
    assert "javascript" not in html


def test_every_image_has_an_alt() -> None:
    """An image the site gave no alt text gets an empty one (a screen reader read out its file
    name); a given one is kept as it is, whatever its other attributes hold."""
    html = sanitize_html(
        '<p><img src="/upload/53928-1.jpg"><img title="a>b alt=" src="b.png" alt="Logo „Razem”">'
        '<img src=c.png width=30 /><img alt="" src="d.png"></p>',
        "https://es.lubuskie.pl/news/",
    )
    assert re.findall(r"<img[^>]*>", html.replace("&gt;", "")) == [
        '<img src="https://es.lubuskie.pl/upload/53928-1.jpg" alt="">',
        '<img title="ab alt=" src="https://es.lubuskie.pl/news/b.png" alt="Logo „Razem”">',
        '<img src="https://es.lubuskie.pl/news/c.png" width="30" alt="">',
        '<img alt="" src="https://es.lubuskie.pl/news/d.png">',
    ]
