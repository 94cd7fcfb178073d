"""A page that states no title of its own is titled by the listing link that led to it
(scrapers/spiders/base.py `link_texts`, `SourceSpider.complete`), read from the bundled copy of
rops.rzeszow.pl's listing."""

from __future__ import annotations

from scrapy.http import HtmlResponse, Request

from scrapers.extraction.article import ArticleParser
from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.registry import get_source
from scrapers.spiders.base import DEFAULT_LISTING_LINKS, link_texts
from scrapers.spiders.generated import SPIDERS

SOURCE = get_source("rops-rzeszow")
LISTING = SNAPSHOT_DIR / "www.rops.rzeszow.pl" / "_routed" / "aktualnosci-5667c5fb.html"
A_1600 = "https://www.rops.rzeszow.pl/a-1600-spotkania-doradcze-w-ramach-projektu-%E2%80%9Espoleczna-rownowaga%E2%80%9D"
HEADLESS = ('<html><head><title>Regionalny Ośrodek Polityki Społecznej w Rzeszowie</title></head><body>'
            '<div class="article"><div class="article-content"><p>Z wielką radością informujemy, że z sukcesem '
            "odbyły się pierwsze spotkania doradcze.</p></div></div></body></html>")  # fmt: skip


def listing() -> HtmlResponse:
    return HtmlResponse("https://www.rops.rzeszow.pl/aktualnosci", body=LISTING.read_bytes(), encoding="utf-8")


def test_the_listing_links_text_by_the_page_it_leads_to() -> None:
    """The heading's link, not the "więcej" one beside it (both lead to the page)."""
    texts = link_texts(listing(), SOURCE.selectors.listing_links.replace("h2 a", "a"))
    assert texts[A_1600] == "SPOTKANIA DORADCZE W RAMACH PROJEKTU „SPOŁECZNA RÓWNOWAGA”"
    assert len(texts) == 2 and "więcej" not in texts.values()
    assert link_texts(listing(), "div.news-list h2 a") == {}, "a selector without ::attr(href) names no links"
    assert link_texts(listing(), DEFAULT_LISTING_LINKS) == {}


def test_a_page_without_a_title_takes_its_listing_links() -> None:
    spider = SPIDERS["rops-rzeszow"]()
    request = Request(A_1600, meta={"link_text": "SPOTKANIA DORADCZE W RAMACH PROJEKTU „SPOŁECZNA RÓWNOWAGA”"})
    response = HtmlResponse(A_1600, body=HEADLESS.encode(), encoding="utf-8", request=request)
    parsed = spider.parser.parse(HEADLESS, A_1600)
    assert parsed.title is None, "the <title> is only the institution"
    spider.complete(parsed, response)
    assert parsed.title == "SPOTKANIA DORADCZE W RAMACH PROJEKTU „SPOŁECZNA RÓWNOWAGA”" and not parsed.problems

    named = Request(A_1600, meta={"link_text": "Regionalny Ośrodek Polityki Społecznej w Rzeszowie"})
    parsed = ArticleParser(SOURCE.selectors, SOURCE.site_names).parse(HEADLESS, A_1600)
    spider.complete(parsed, HtmlResponse(A_1600, body=HEADLESS.encode(), encoding="utf-8", request=named))
    assert parsed.title is None and parsed.problems == ["no title"], "never the site's name: the lost title's alarm"


def test_the_first_listing_pages_title_names_the_site() -> None:
    spider = SPIDERS["rops-rzeszow"]()
    body = LISTING.read_text(encoding="utf-8").replace(
        "Aktualności - Regionalny Ośrodek Polityki Społecznej w Rzeszowie", "Aktualności | ROPS w Rzeszowie"
    )  # a variant of its real title
    response = HtmlResponse("https://www.rops.rzeszow.pl/aktualnosci", body=body.encode(), encoding="utf-8")
    spider.learn_site_name(response)
    assert spider.parser.site_names[-1] == "Aktualności | ROPS w Rzeszowie"
    page = HEADLESS.replace(
        "Regionalny Ośrodek Polityki Społecznej w Rzeszowie", "ROPS w Rzeszowie | Spotkania doradcze"
    )
    assert spider.parser.parse(page, A_1600).title == "Spotkania doradcze"
