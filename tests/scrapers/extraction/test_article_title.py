"""Where an article's title comes from when the page has no usable heading (ArticleParser.title):
pages shaped like the real sites' (SITES.md), whose `<title>` is often only the site's name."""

from __future__ import annotations

import json

import pytest

from scrapers.extraction.article import ArticleParser, is_site_name, same_title, strip_site_name
from scrapers.registry import Selectors, get_source

RZESZOW = get_source("rops-rzeszow")
RZESZOW_ES = get_source("rops-rzeszow-es")
TEXT = "<p>Zapraszamy organizacje pozarządowe do składania wniosków o dofinansowanie projektów.</p>"


def page(head: str, body: str) -> str:
    return f'<html lang="pl"><head><meta charset="utf-8">{head}</head><body>{body}</body></html>'


def rzeszow_article(head: str, heading: str = "") -> str:
    """rops.rzeszow.pl's custom CMS: its header names the institution; the article's <h1> may be gone."""
    return page(head, '<div class="header"><a href="/">Regionalny Ośrodek Polityki Społecznej w Rzeszowie</a> | '
                      f'Jak dojechać</div><div class="article">{heading}<div class="article-content">{TEXT}</div>'
                      "</div>")  # fmt: skip


def parse(html: str, source: object = RZESZOW, *names: str) -> str | None:
    parser = ArticleParser(source.selectors, (*source.site_names, *names))  # type: ignore[attr-defined]
    return parser.parse(html, source.base_url + "a-1700-x").title  # type: ignore[attr-defined]


def test_the_heading_comes_first() -> None:
    html = rzeszow_article("<title>Regionalny Ośrodek Polityki Społecznej w Rzeszowie</title>",
                           "<h1>Nabór wniosków w ramach programu „Asystent osobisty”</h1>")  # fmt: skip
    assert parse(html) == "Nabór wniosków w ramach programu „Asystent osobisty”"


def test_a_title_that_is_only_the_institution_is_no_title() -> None:
    """rops.rzeszow.pl prints the institution as every page's <title>: without the <h1>, that is no
    title (the spider then takes its listing link's text), never the announcement's."""
    html = rzeszow_article("<title>Regionalny Ośrodek Polityki Społecznej w Rzeszowie</title>")
    parsed = ArticleParser(RZESZOW.selectors, RZESZOW.site_names).parse(html, "https://www.rops.rzeszow.pl/a-1700-x")
    assert parsed.title is None and "no title" in parsed.problems


@pytest.mark.parametrize("generic", ["Strona główna", "Strona główna - ROPS w Rzeszowie", "Aktualności"])
def test_a_cms_pages_generic_name_is_no_title(generic: str) -> None:
    assert parse(rzeszow_article(f"<title>{generic}</title>"), RZESZOW, "Aktualności - ROPS w Rzeszowie") is None


def test_og_title_then_json_ld_without_the_sites_name() -> None:
    og = '<meta property="og:title" content="Nabór wniosków – Regionalny Ośrodek Polityki Społecznej w Rzeszowie">'
    assert parse(rzeszow_article(og + "<title>ROPS</title>")) == "Nabór wniosków"
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Regionalny Ośrodek Polityki "
          "Społecznej w Rzeszowie", "datePublished": "2024-05-14T13:36:00+02:00"}  # fmt: skip
    script = f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>'
    assert parse(rzeszow_article(script + og)) == "Nabór wniosków", "a headline that names the site is skipped"
    ld["headline"] = "Konkurs - edycja 2024"  # the article's own words: its dash is not a separator
    script = f'<script type="application/ld+json">{json.dumps(ld, ensure_ascii=False)}</script>'
    assert parse(rzeszow_article(script + og)) == "Konkurs - edycja 2024"


def test_the_site_name_is_dropped_before_or_after_the_title() -> None:
    home = "ROPS w Rzeszowie – Regionalny Ośrodek Polityki Społecznej w Rzeszowie"  # the home page's title
    title = "<title>ROPS w Rzeszowie » Spotkania doradcze w ramach projektu „Społeczna równowaga”</title>"
    assert parse(rzeszow_article(title), RZESZOW, home) == "Spotkania doradcze w ramach projektu „Społeczna równowaga”"
    title = "<title>Dzień Seniora | rops.rzeszow.pl</title>"
    assert parse(rzeszow_article(title)) == "Dzień Seniora"


def test_es_rops_rzeszow_title_suffix() -> None:
    """es.rops.rzeszow.pl titles its pages "<title> « Ekonomia Społeczna" (SITES.md)."""
    html = page("<title>Targi Ekonomii Społecznej w Rzeszowie « Ekonomia Społeczna</title>",
                f'<div class="post"><div class="entry">{TEXT}</div></div>')  # fmt: skip
    assert parse(html, RZESZOW_ES) == "Targi Ekonomii Społecznej w Rzeszowie"
    only_site = page("<title> « Ekonomia Społeczna</title>", f'<div class="post"><div class="entry">{TEXT}</div></div>')
    assert parse(only_site, RZESZOW_ES, "Ekonomia Społeczna « Ekonomia Społeczna") is None


def test_a_logo_heading_that_names_the_site_is_passed_over() -> None:
    """A theme without a title selector whose logo is the page's first <h1>."""
    html = page("<title>Posiedzenie Komitetu – MCPS</title>",
                "<header><h1>Mazowieckie Centrum Polityki Społecznej</h1></header><main><h2>Posiedzenie Komitetu</h2>"
                f"{TEXT}</main>")  # fmt: skip
    parser = ArticleParser(Selectors(), ("Mazowieckie Centrum Polityki Społecznej", "mcps.com.pl"))
    assert parser.parse(html, "https://mcps.com.pl/x/").title == "Posiedzenie Komitetu"


@pytest.mark.parametrize(
    ("title", "stripped"),
    [
        ("Nabór – ROPS", "Nabór"),  # unknown name: the last part goes, as before
        ("Regionalny Ośrodek Polityki Społecznej w Rzeszowie", None),
        ("Strona główna | Regionalny Ośrodek Polityki Społecznej w Rzeszowie", None),
        ("Nabór wniosków", "Nabór wniosków"),
    ],
)
def test_strip_site_name(title: str, stripped: str | None) -> None:
    assert strip_site_name(title, RZESZOW.site_names) == stripped


def test_site_names_compare_folded() -> None:
    assert is_site_name("  regionalny ośrodek  polityki społecznej w rzeszowie ", RZESZOW.site_names)
    assert is_site_name("ROPS.RZESZOW.PL", RZESZOW.site_names)
    assert not is_site_name("Ośrodek w Rzeszowie zaprasza", RZESZOW.site_names)


@pytest.mark.parametrize(
    ("title", "kept"),
    [
        ("Konkurs „Podkarpacki Lider Ekonomii Społecznej” - edycja 2024", True),
        ("Sprawozdanie z działalności Regionalnego Ośrodka Polityki Społecznej – 2023", True),
        ("Poradnik dla rodzinnej pieczy zastępczej - cz. 2", True),
        ("Szkolenie dla asystentów rodziny – II edycja", True),
        ("Program „Opieka wytchnieniowa” – 2024/2025", True),
        ("Dzień Seniora | Portal Ekonomii Społecznej", False),  # a site the parser does not know: it goes
    ],
)
def test_without_link_text_a_number_a_year_or_an_edition_is_no_sites_name(title: str, kept: bool) -> None:
    """rops.rzeszow.pl without its <h1>: a `<title>`'s last part that no site is named like stays."""
    expected = title if kept else title.rsplit(" | ", 1)[0]
    assert parse(rzeszow_article(f"<title>{title}</title>")) == expected


def link_parse(head: str, link_text: str | None) -> str | None:
    parser = ArticleParser(RZESZOW.selectors, RZESZOW.site_names)
    return parser.parse(rzeszow_article(head), "https://www.rops.rzeszow.pl/a-1700-x", link_text).title


def test_the_listing_links_text_decides_which_parts_of_the_title_are_the_pages() -> None:
    """The listing prints the title in capitals with „…” quotes (rops.rzeszow.pl's news list)."""
    title = '<title>Nabór wniosków - Program "Asystent osobisty osoby z niepełnosprawnością"</title>'
    assert link_parse(title, None) == "Nabór wniosków", "blind: the last part taken for the site's name"
    link = "NABÓR WNIOSKÓW – PROGRAM „ASYSTENT OSOBISTY OSOBY Z NIEPEŁNOSPRAWNOŚCIĄ”"
    assert link_parse(title, link) == 'Nabór wniosków - Program "Asystent osobisty osoby z niepełnosprawnością"'
    with_site = title.replace("</title>", " | Podkarpacie</title>")
    assert link_parse(with_site, link) == 'Nabór wniosków - Program "Asystent osobisty osoby z niepełnosprawnością"'
    # a part the link does not hold goes (here the site's name the parser does not know), one the link holds stays
    edition = "<title>Konkurs grantowy - edycja 2024 - Podkarpacie</title>"
    assert link_parse(edition, "Konkurs grantowy – edycja 2024") == "Konkurs grantowy - edycja 2024"
    assert link_parse(edition, "Konkurs grantowy dla NGO") == "Konkurs grantowy dla NGO", "the link gives it in full"
    assert link_parse(edition, "Ogłoszenie") == "Konkurs grantowy", "neither part is in the link: both go"


def test_a_cut_title_takes_the_link_texts_full_form_and_a_headless_page_the_link_text() -> None:
    cut = "<title>Spotkania doradcze w ramach projektu „Społeczna równ…</title>"
    full = "SPOTKANIA DORADCZE W RAMACH PROJEKTU „SPOŁECZNA RÓWNOWAGA”"
    assert link_parse(cut, full) == full
    assert link_parse(cut, None) == "Spotkania doradcze w ramach projektu „Społeczna równ…"
    only_site = "<title>Regionalny Ośrodek Polityki Społecznej w Rzeszowie</title>"
    parsed = ArticleParser(RZESZOW.selectors, RZESZOW.site_names).parse(
        rzeszow_article(only_site), "https://www.rops.rzeszow.pl/a-1700-x", full
    )
    assert parsed.title == full and parsed.titled_by_link and not parsed.problems
    assert link_parse(only_site, "Regionalny Ośrodek Polityki Społecznej w Rzeszowie") is None, "never the site"
    heading = "<h1>Spotkania doradcze w ramach projektu „Społeczna równowaga”</h1>"
    assert (
        ArticleParser(RZESZOW.selectors, RZESZOW.site_names)
        .parse(rzeszow_article(only_site, heading), "https://www.rops.rzeszow.pl/a-1700-x", "Inny tytuł")
        .title
        == "Spotkania doradcze w ramach projektu „Społeczna równowaga”"
    ), "the page's heading comes first"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Program „Aktywni+” – nabór", 'PROGRAM "AKTYWNI+" - NABÓR', True),
        ("Dzień  Seniora", "dzień seniora", True),
        ("Dzień Seniora", "Dzień Seniora 2024", False),
    ],
)
def test_titles_compare_folded(a: str, b: str, same: bool) -> None:
    assert same_title(a, b) is same
