"""Which URL and which CMS id an article page gets (no network: parsed HTML only)."""

from __future__ import annotations

from scrapers.extraction.article import ArticleParser
from scrapers.items import AnnouncementItem
from scrapers.registry import get_source
from scrapers.spiders.base import announcement_from_article

BODY = "<div class='entry-content'><p>Regionalny Ośrodek Polityki Społecznej zaprasza na spotkanie.</p></div>"


def page(head: str = "", body_class: str = "") -> str:
    title = "<h1 class='entry-title'>Spotkanie</h1>"
    return f"<html><head>{head}</head><body class='{body_class}'>{title}{BODY}</body></html>"


def item_for(source_id: str, html: str, url: str) -> AnnouncementItem:
    source = get_source(source_id)
    parsed = ArticleParser(source.selectors).parse(html, url)
    return announcement_from_article(source_id, parsed, None, source.identity)


def test_shortlink_and_body_class_give_the_wordpress_post_id() -> None:
    url = "https://www.rops-bialystok.pl/andrzej3/?p=6488"
    item = item_for(
        "rops-bialystok", page("<link rel='shortlink' href='https://www.rops-bialystok.pl/andrzej3/?p=6488'>"), url
    )
    assert item.external_id == "wp:6488"
    assert item_for("rops-bialystok", page(body_class="single postid-6488"), url).external_id == "wp:6488"
    other_sub_site = "https://www.rops-bialystok.pl/rops/spotkanie/"
    assert item_for("rops-bialystok", page(body_class="single postid-14470"), other_sub_site).external_id is None
    assert item_for("mcps", page(body_class="home blog"), "https://mcps.com.pl/x/").external_id is None


def test_rel_canonical_on_an_alias_host_is_followed_but_one_naming_the_home_page_is_not() -> None:
    fetched = "https://rops.torun.pl/42-archiwum-2022/1604-konferencja"
    declared = "https://www.ropstorun.home.pl/42-archiwum-2022/1604-konferencja"
    item = item_for("rops-torun", page(f"<link rel='canonical' href='{declared}'>"), fetched)
    assert (item.url, item.url_declared) == (declared, True)
    assert item.url_keys == ("ropstorun.home.pl/42-archiwum-2022/1604-konferencja",)

    broken_theme = item_for("rops-torun", page("<link rel='canonical' href='https://www.ropstorun.home.pl/'>"), fetched)
    assert (broken_theme.url, broken_theme.url_declared) == (fetched, False), "every page is not the home page"

    elsewhere = item_for("rops-torun", page("<link rel='canonical' href='https://mcps.com.pl/x/'>"), fetched)
    assert elsewhere.url == fetched, "a canonical on another site is a re-post's credit, not this page's URL"


def test_the_fetched_urls_key_is_kept_beside_the_declared_one() -> None:
    fetched = "http://www.es.mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres/?utm_source=newsletter"
    declared = "http://es.mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres"
    head = f"<link rel='canonical' href='{declared}'><link rel='shortlink' href='http://es.mcps-efs.pl/node/62005'>"
    item = item_for("mcps-es", page(head), fetched)
    assert (item.url, item.external_id, item.key) == (
        declared,
        "node:62005",
        "es.mcps-efs.pl/artyku%C5%82/vii-posiedzenie-mkres",
    )
