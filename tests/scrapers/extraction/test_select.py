"""select() finds what soupsieve's select() finds, the same elements in the same order, on every
mirror page with every selector the article parser asks for (and on pages made to trip it up)."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup, Tag

from scrapers.extraction.article import DEFAULT_BODY_SELECTORS
from scrapers.extraction.boilerplate import strip_boilerplate
from scrapers.extraction.sanitize import absolutise
from scrapers.extraction.select import _subjects, page_index, select, select_one
from scrapers.extraction.soup import parse_html
from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.registry import load_sources

TIME_SELECTORS = [
    f"time.{time_class}[datetime], time.entry-date[datetime], dd.{dd} time[datetime], time[itemprop={prop}][datetime]"
    for time_class, dd, prop in (("published", "published", "datePublished"), ("updated", "modified", "dateModified"))
]
EXTRA_SELECTORS = [
    "a[rel~=category], a[rel~=tag]", "div p", "div > p", "h2 + p", "h2 ~ p", "*", "[href]", "p.a.b", "#main p",
    "li:nth-child(2)", "div:not(.entry-content)", "a[href$=pdf]", "span, a, div.x", "body > *", "a[rel|=nofollow]",
    "article h1", "h1#page-title, h1.page-title", "div#a#b", "DIV.entry-content", "p.Lead", "div.x div.x",
    "a[href^=https]", "img[src*=example]", "p:first-child", "div.widget a",
    "ul li a", "div.entry-content > p", "article .entry-content p", "body > div", "html > body", "li > a[href]",
    "* p", "* > p", "[class] span", "div.x > div.x",
]  # fmt: skip
ODD_PAGES = [
    "<div class='x'><template><div class='x'><p>inside a template</p></div></template><p>out</p></div>",
    "<div class='entry-content'><div class='entry-content'><p>nested</p></div></div><main><p>m</p></main>",
    "<article><div class='entry-content'>a</div></article><div id='content' class='entry-content'>b</div>",
    "<p class='a b'>1</p><p class='b a'>2</p><p class='a'>3</p><p class='Lead lead'>4</p><h2>h</h2><p>5</p><p>6</p>",
    "<ul><li>1<li>2<li>3</ul><a href='x.pdf' rel='nofollow tag'>f</a><a href='y' rel='Category'>c</a>",
    "<div id='main'><p>in</p></div><div id='Main'><p>not</p></div><div id='a'><p>x</p></div>",
    "<dd class='published'><span><time datetime='2024-01-02'>x</time></span></dd><time class='published'>no dt</time>"
    "<time itemprop='datePublished\n' datetime='2024-01-03'>nl</time><time class='updated entry-date' datetime='1'>",
]


def registry_selectors(enabled_only: bool = False) -> list[str]:
    found = set()
    for source in load_sources():
        if enabled_only and not source.enabled:
            continue
        s = source.selectors
        found.update(x for x in (s.title, s.body, s.lead, s.date, s.modified, s.categories) if x)
    return sorted(found)


ALL_SELECTORS = sorted({*registry_selectors(), *DEFAULT_BODY_SELECTORS, *TIME_SELECTORS, *EXTRA_SELECTORS})


def _pages() -> list[str]:
    paths = sorted(p for p in SNAPSHOT_DIR.rglob("*") if p.suffix in (".html", ".htm") and p.is_file())
    return [p.read_bytes().decode("utf-8", errors="replace") for p in paths]


def assert_same_selections(markup: str) -> None:
    soup = parse_html(markup)
    scopes: list[Tag | None] = [None, *page_index(soup).by_name.get("article", [])[:2], soup.body]
    for selector in ALL_SELECTORS:
        # (the parser scopes only its <time> selections, to the body's <article>)
        for scope in scopes if selector in TIME_SELECTORS or selector in EXTRA_SELECTORS else [None]:
            expected = (scope or soup).select(selector)
            actual = select(soup, selector, scope)
            assert [id(t) for t in actual] == [id(t) for t in expected], (selector, scope and scope.name)
        first = soup.select_one(selector)
        assert select_one(soup, selector) is first, selector
        assert [id(t) for t in select(soup, selector, limit=2)] == [id(t) for t in soup.select(selector, limit=2)]


def assert_same_selections_after_stripping(markup: str) -> None:
    """As the article parser selects the lead after stripping the body: elements decomposed,
    links rewritten."""
    soup = parse_html(markup)
    page_index(soup)
    body = soup.body or soup
    strip_boilerplate(body)
    absolutise(body, "https://example.test/a/b/")
    for number, element in enumerate(body.find_all(["div", "p", "span"])):
        if number % 3 == 1 and not element.decomposed:
            element.decompose()
    for selector in ALL_SELECTORS:
        assert [id(t) for t in select(soup, selector)] == [id(t) for t in soup.select(selector)], selector


def test_the_crawled_sources_and_default_selectors_take_the_fast_path() -> None:
    asked = (*registry_selectors(enabled_only=True), *DEFAULT_BODY_SELECTORS, *TIME_SELECTORS)
    slow = [s for s in asked if _subjects(s) is None]
    assert slow == []


@pytest.mark.parametrize("markup", ODD_PAGES)
def test_the_same_elements_as_soupsieve_on_odd_pages(markup: str) -> None:
    assert_same_selections(markup)


def test_the_same_elements_as_soupsieve_on_every_mirror_page() -> None:
    pages = _pages()
    assert len(pages) > 50
    for markup in pages:
        assert_same_selections(markup)


@pytest.mark.parametrize("markup", ODD_PAGES)
def test_the_same_elements_as_soupsieve_after_stripping_odd_pages(markup: str) -> None:
    assert_same_selections_after_stripping(markup)


def test_the_same_elements_as_soupsieve_after_stripping_mirror_pages() -> None:
    for markup in _pages()[::4]:
        assert_same_selections_after_stripping(markup)


def test_a_page_parsed_by_beautifulsoup_itself_works_too() -> None:
    soup = BeautifulSoup(ODD_PAGES[3], "lxml")
    assert [t.get_text() for t in select(soup, "p.a")] == ["1", "2", "3"]
