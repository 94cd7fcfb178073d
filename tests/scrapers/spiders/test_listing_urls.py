"""A listing whose links all lost the registry's article URL shape (`article_pattern`): the
spider's listing callback on the bundled rops.rzeszow.pl listing with its links rewritten."""

from __future__ import annotations

import re

from scrapy import Request
from scrapy.http import HtmlResponse

from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.spiders.generated import SPIDERS

LISTING_URL = "https://www.rops.rzeszow.pl/aktualnosci"
LISTING = (SNAPSHOT_DIR / "www.rops.rzeszow.pl/_routed/aktualnosci-5667c5fb.html").read_bytes()


def articles_requested(body: bytes) -> tuple[list[str], list[str]]:
    spider = SPIDERS["rops-rzeszow"]()
    response = HtmlResponse(LISTING_URL, body=body, encoding="utf-8", request=Request(LISTING_URL))
    requests = list(spider.parse_listing(response, first=True))
    return [r.url for r in requests if r.callback == spider.parse_article], list(spider.alarms)


def test_links_of_the_registrys_shape_raise_nothing() -> None:
    articles, alarms = articles_requested(LISTING)
    assert len(articles) == 2 and alarms == []


def test_a_listing_whose_links_all_changed_shape_is_an_alarm_and_is_followed() -> None:
    moved = re.sub(rb'href="https://www\.rops\.rzeszow\.pl/a-(\d+)-', rb'href="https://www.rops.rzeszow.pl/aktualnosci/\1/',
                   LISTING)  # fmt: skip
    articles, alarms = articles_requested(moved)
    assert len(articles) == 2 and all("/aktualnosci/" in url for url in articles), "new announcements keep coming"
    [alarm] = alarms
    assert alarm.startswith(f"listing {LISTING_URL}: none of its 2 links matches the article URL pattern '/a-\\\\d+-'")
    assert alarm.endswith("the site changed its URLs? known announcements may be stored again under new ones")
