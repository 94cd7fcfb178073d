"""The generic article parser on small pages shaped like the real themes (SITES.md)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scrapers.extraction.article import ArticleParser, cut_off
from scrapers.registry import Selectors
from tests.conftest import REPO

_MCPS_ARTICLE = "konkurs-mazowiecka-marka-ekonomii-spolecznej-2021/index.html"

# Drupal 7 node of es.mcps-efs.pl: the lead is a field printed above the body field (real texts).
_DRUPAL_NODE = """<html><body><h1 id="page-title">Rusza V edycja konkursu "Mazowiecka Marka Ekonomii Społecznej"</h1>
<div class="node node-artykul">
  <div class="field field-name-field-lead"><div class="field-items"><div class="field-item even"><p><strong>
  Mazowieckie Centrum Polityki Społecznej ogłasza kolejną edycję konkursu „Mazowiecka Marka Ekonomii
  Społecznej’ 2020” i rozpoczyna przyjmowanie oficjalnych aplikacji konkursowych.</strong></p></div></div></div>
  <div class="content clearfix"><div class="field field-name-body"><p>Do konkursu można zgłaszać wyróżniające się
  w lokalnym środowisku podmioty ekonomii społecznej.</p></div>
  <div class="field field-name-field-zalaczniki"><div class="field-label">Załączniki:&nbsp;</div>
  <a href="/sites/default/files/wniosek.pdf">wniosek zgłoszeniowy</a></div></div>
</div></body></html>"""
_SELECTORS = Selectors(
    title="h1#page-title", body="div.node > div.content", lead="div.node > div.field-name-field-lead"
)
_URL = "http://es.mcps-efs.pl/artyku%C5%82/rusza-v-edycja-konkursu-mazowiecka-marka-ekonomii-spo%C5%82ecznej"


def test_a_lead_printed_above_the_body_opens_the_text_and_is_the_lead() -> None:
    article = ArticleParser(_SELECTORS).parse(_DRUPAL_NODE, _URL)
    assert article.lead is not None and article.lead.startswith("Mazowieckie Centrum Polityki Społecznej ogłasza")
    assert "Społecznej’ 2020”" in article.lead
    paragraphs = article.body_text.split("\n\n")
    assert paragraphs[0] == article.lead
    assert paragraphs[1].startswith("Do konkursu można zgłaszać")
    assert article.body_html.index("ogłasza kolejną edycję") < article.body_html.index("Do konkursu")
    assert [a.url for a in article.attachments] == ["http://es.mcps-efs.pl/sites/default/files/wniosek.pdf"]


def test_without_a_lead_selector_the_lead_is_the_first_body_paragraph() -> None:
    selectors = Selectors(title="h1#page-title", body="div.node > div.content")
    article = ArticleParser(selectors).parse(_DRUPAL_NODE, _URL)
    assert "ogłasza kolejną edycję" not in article.body_text
    assert (
        article.lead
        == "Do konkursu można zgłaszać wyróżniające się w lokalnym środowisku podmioty ekonomii społecznej."
    )


def test_a_lead_inside_the_body_element_is_not_repeated() -> None:
    selectors = Selectors(title="h1#page-title", body="div.node", lead="div.field-name-field-lead")
    article = ArticleParser(selectors).parse(_DRUPAL_NODE, _URL)
    assert article.body_text.count("ogłasza kolejną edycję") == 1


def _with_lead(lead: str, body: str) -> tuple[str, list[str]]:
    page = (f'<html><body><div class="news"><h1 class="news-title">Bilans potrzeb</h1><div class="news-lead">{lead}'
            f'</div><div class="news-body">{body}</div></div></body></html>')  # fmt: skip
    selectors = Selectors(title="div.news h1.news-title", body="div.news div.news-body", lead="div.news div.news-lead")
    article = ArticleParser(selectors).parse(page, "https://www.rops.krakow.pl/aktualnosc/bilans-potrzeb-362.html")
    return article.body_text, [image.url for image in article.images]


def test_a_lead_the_text_repeats_opens_it_once_and_other_leads_open_it_too() -> None:
    first = "Dnia 01 marca br. został przekazany wojewodzie raport z bilansu potrzeb w zakresie pomocy społecznej."
    rest = "<p>W bilansowaniu udział wzięło 180 jednostek.</p>"
    text, images = _with_lead(f'<strong>{first}</strong><img src="/foto/bilans.jpg" alt="">', f"<p>{first}</p>{rest}")
    assert text.split("\n\n") == [first, "W bilansowaniu udział wzięło 180 jednostek."], "rops.krakow.pl: once"
    assert images == ["https://www.rops.krakow.pl/foto/bilans.jpg"], "the lead element's picture is kept"
    text, _ = _with_lead("Zapraszamy.", "<p>Zapraszamy do udziału w bilansie potrzeb.</p>")
    assert text.split("\n\n") == ["Zapraszamy.", "Zapraszamy do udziału w bilansie potrzeb."], "not a repeat"
    text, _ = _with_lead("Dnia 01 marca br. został przekazany…", f"<p>{first}</p>")
    assert text.split("\n\n") == [first], "a teaser of the first paragraph"


# wrotapodlasia.pl: "Dodana:" and "Zmodyfikowana:" lines above the title, months in the nominative
# (real values of /pl/organizacje_pozarzadowe/konsultacje_spoleczne/konsultacje-w-zakresie-polityki-spolecznej.html)
_DATE_LINES = """<html><body><div class="article">
<div class="article-dates"><p class="article-added">Dodana: 8 luty 2021 12:31</p>
<p class="article-modified">Zmodyfikowana: 8 luty 2021 14:20</p></div>
<h1>Konsultacje w zakresie polityki społecznej</h1>
<div class="article-content"><p>Od wtorku (09.02) do 23 lutego trwają konsultacje.</p></div></div></body></html>"""


def test_visible_added_and_modified_lines_are_the_two_dates_with_their_minute() -> None:
    selectors = Selectors(title="div.article h1", body="div.article-content", date="p.article-added",
                          modified="p.article-modified")  # fmt: skip
    article = ArticleParser(selectors).parse(_DATE_LINES, "https://wrotapodlasia.pl/pl/x.html")
    assert (article.published_at.isoformat(), article.published_from) == ("2021-02-08T11:31:00+00:00", "label")
    assert (article.modified_at.isoformat(), article.modified_from) == ("2021-02-08T13:20:00+00:00", "label")
    assert "23 lutego" in article.body_text and "Zmodyfikowana" not in article.body_text

    only_added = ArticleParser(Selectors(title="div.article h1", body="div.article-content", date="p.article-added"))
    assert only_added.parse(_DATE_LINES, "https://wrotapodlasia.pl/pl/x.html").modified_at is None


def _page(title: str, body: str) -> str:
    content = f'<div class="article-content"><p>{body}</p></div>'
    return f'<html><body><div class="article"><h1>{title}</h1>{content}</div></body></html>'


_ERROR_SELECTORS = Selectors(title="div.article h1", body="div.article-content")


@pytest.mark.parametrize(
    "title",
    ["Błąd 404", "404 - Nie znaleziono", "Strona nie została znaleziona", "Nie znaleziono strony",
     "Ta strona nie istnieje", "Page not found", "Przerwa techniczna"],
)  # fmt: skip
def test_a_cms_error_page_served_as_200_is_not_an_announcement(title: str) -> None:
    article = ArticleParser(_ERROR_SELECTORS).parse(
        _page(title, "Przepraszamy, strona nie istnieje."), "https://x.pl/a"
    )
    assert any("soft 404" in problem for problem in article.problems)


@pytest.mark.parametrize(
    "title",
    ["Nie znaleziono wykonawcy na dostawę paczek świątecznych", "404 wnioski złożone w naborze na dotacje"],
)
def test_a_short_announcement_about_something_not_found_is_one(title: str) -> None:
    article = ArticleParser(_ERROR_SELECTORS).parse(_page(title, "Postępowanie zostanie powtórzone."), "https://x.pl/a")
    assert article.problems == []


def test_after_warm_up_a_real_page_compiles_none_of_soupsieves_patterns() -> None:
    """A worker's `warm_up` pays soupsieve's pattern compiling (its first selectors: 0.15 s), not
    its first page. Checked in a fresh interpreter: this one has compiled them already."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from soupsieve.css_parser import CSSParser\n"
        "from scrapers.extraction.article import ArticleParser, warm_up\n"
        "def compiled(): return {p.name for p in CSSParser.CSS_TOKENS if getattr(p, '_re_pattern', None) is not None}\n"
        "assert not compiled()\n"
        "warm_up()\n"
        "before = compiled()\n"
        "page = Path(sys.argv[1]).read_text(encoding='utf-8')\n"
        "article = ArticleParser().parse(page, 'https://mcps.com.pl/ekonomia-spoleczna/wydarzenia/x/')\n"
        "assert article.title and len(article.body_text) > 200, article\n"
        "print(sorted(before), sorted(compiled() - before))\n"
    )
    page = REPO / "scrapers/mirror/snapshot/mcps.com.pl/ekonomia-spoleczna" / _MCPS_ARTICLE
    result = subprocess.run([sys.executable, "-c", code, str(page)], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    before, after_page = result.stdout.strip().split("] [")
    assert before.count("'") >= 2  # the warm-up compiled some
    assert after_page == "]", f"compiled by the first page: {after_page}"


# es.warmia.mazury.pl (Joomla): the heading is typed at the top of the text, the title is read from it
_TYPED_HEADING = (
    '<html><body><div itemprop="articleBody"><h3><strong>REGIONALNA PLATFORMA REINTEGRACYJNA</strong></h3>'
    "<p>&nbsp;</p><p>Regionalny Ośrodek Polityki Społecznej w Olsztynie zorganizował spotkanie sieciujące.</p>"
    "<p>&nbsp;</p></div></body></html>"
)


def test_a_heading_that_repeats_the_title_leaves_the_html_as_well_as_the_text() -> None:
    selectors = Selectors(title="div[itemprop=articleBody] h3", body="div[itemprop=articleBody]")
    article = ArticleParser(selectors).parse(_TYPED_HEADING, "https://es.warmia.mazury.pl/aktualnosci/x")
    assert article.title == "REGIONALNA PLATFORMA REINTEGRACYJNA"
    assert article.body_text == "Regionalny Ośrodek Polityki Społecznej w Olsztynie zorganizował spotkanie sieciujące."
    # the spacer paragraphs went too: the page showed blank gaps there
    assert article.body_html == (
        "<p>Regionalny Ośrodek Polityki Społecznej w Olsztynie zorganizował spotkanie sieciujące.</p>"
    )


def test_a_first_paragraph_that_only_starts_with_the_title_is_kept_whole() -> None:
    page = _page("Konkurs", "Konkurs ofert na realizację zadań publicznych w 2024 roku.")
    article = ArticleParser(_ERROR_SELECTORS).parse(page, "https://x.pl/a")
    assert article.body_text == "Konkurs ofert na realizację zadań publicznych w 2024 roku."
    assert "Konkurs ofert" in article.body_html


def test_drupals_file_type_icons_stay_out_of_the_body() -> None:
    page = (
        '<html><body><h1 id="page-title">Konsultacje</h1><div class="node"><div class="content">'
        "<p>Zapraszamy do konsultacji Planu rozwoju ekonomii społecznej.</p>"
        '<div class="field-label">Załączniki:&nbsp;</div><span class="file"><img class="file-icon" alt="Ikona PDF" '
        'src="/modules/file/icons/application-pdf.png"> <a href="/sites/default/files/plan.pdf">Plan</a></span>'
        "</div></div></body></html>"
    )
    selectors = Selectors(title="h1#page-title", body="div.node > div.content")
    article = ArticleParser(selectors).parse(page, "http://es.mcps-efs.pl/artyku%C5%82/konsultacje")
    assert "Ikona PDF" not in article.body_html and "application-pdf.png" not in article.body_html
    assert [a.url for a in article.attachments] == ["http://es.mcps-efs.pl/sites/default/files/plan.pdf"]


@pytest.mark.parametrize(
    ("html", "stopped"),
    [
        ("<html><body><p>Nabór wniosków trwa do 12 mar", True),
        ('<html><body><div class="article-content"><p>Nabór wniosków.</p></', True),
        ("<html><body><p>Nabór wniosków.</p></body></html>", False),
        # HTML lets a page leave out </body></html>
        ("<!DOCTYPE html><title>Nabór</title><p>Nabór wniosków.</p>\n", False),
        # a hosting company's trackers after </html>, longer than the tail looked at first
        ("<html><body><p>Nabór.</p></body></html>" + "<script>var t = 1;</script>" * 400, False),
    ],
)
def test_a_page_that_stops_in_the_middle_is_cut_off(html: str, stopped: bool) -> None:
    assert bool(cut_off(html)) is stopped


def test_a_title_that_links_its_file_stays_in_the_body() -> None:
    page = _page("Regulamin konkursu", "x").replace(
        "<p>x</p>", '<p><a href="/pliki/regulamin.pdf">Regulamin konkursu</a></p><p>Zapraszamy do udziału.</p>'
    )
    article = ArticleParser(_ERROR_SELECTORS).parse(page, "https://x.pl/a")
    assert [a.url for a in article.attachments] == ["https://x.pl/pliki/regulamin.pdf"]
    assert "regulamin.pdf" in article.body_html


def test_a_page_where_php_gave_up_is_cut_off() -> None:
    page = "<html><body><p>Nabór wniosków</p><br />\n<b>Fatal error</b>:  Allowed memory size exhausted<br />"
    assert cut_off(page)


def test_a_linked_title_of_the_page_itself_leaves_the_body() -> None:
    page = _page("Nabór wniosków 2024", "x").replace(
        "<p>x</p>", '<h2><a href="/aktualnosci/123-nabor">Nabór wniosków 2024</a></h2><p>Zapraszamy do udziału.</p>'
    )
    article = ArticleParser(_ERROR_SELECTORS).parse(page, "https://x.pl/aktualnosci/123-nabor")
    assert "123-nabor" not in article.body_html and article.body_text == "Zapraszamy do udziału."


@pytest.mark.parametrize(
    ("body", "content"),
    [
        ('<p><img src="/upload/plakat-dni-seniora.jpg" alt="Plakat"></p>', True),  # a poster alone
        ('<p><a href="/upload/zaproszenie.pdf">Zaproszenie (PDF)</a></p>', True),  # a file alone
        ("<p>&nbsp;</p>", False),
    ],
)
def test_a_poster_or_a_file_alone_is_content_as_in_a_rest_post(body: str, content: bool) -> None:
    article = ArticleParser(_ERROR_SELECTORS).parse(_page("Dni Seniora 2024", body), "https://x.pl/a")
    assert (article.problems == []) is content, article.problems
    assert ("no body" in article.problems) is not content


# rops.rzeszow.pl after a template change: the article's date line is gone, and the sidebar's
# "Ostatnio dodane" prints its teasers' dates with the class the registry selects.
_DATE_IN_SIDEBAR = """<html><body><div id="content"><div class="article"><h1>Wystartował projekt</h1>
<div class="article-content"><p>Regionalny Ośrodek Polityki Społecznej rozpoczął projekt.</p></div></div>
<div class="sidebar"><h3>Ostatnio dodane</h3><ul><li><div class="article-date">Data dodania: 2011-01-01 10:00</div>
<a href="/a-1-x">Inny artykuł</a></li></ul></div></div></body></html>"""


def test_a_date_line_in_the_sidebar_is_another_pages_date() -> None:
    selectors = Selectors(title="div.article h1", body="div.article-content", date="div.article-date")
    article = ArticleParser(selectors).parse(_DATE_IN_SIDEBAR, "https://www.rops.rzeszow.pl/a-1579-x")
    assert (article.published_at, article.published_from) == (None, None)
    own_line = _DATE_IN_SIDEBAR.replace('<div class="article-content">',
                                        '<div class="article-date">Data dodania: 2024-03-21 11:02</div>'
                                        '<div class="article-content">')  # fmt: skip
    assert (
        ArticleParser(selectors).parse(own_line, "https://x.pl/a").published_at.isoformat()
        == "2024-03-21T10:02:00+00:00"
    )


@pytest.mark.parametrize(
    "widget",
    ['<aside id="secondary" class="widget-area"><ul><li>{}</li></ul></aside>',
     '<div class="widget widget_recent_entries"><ul><li>{}</li></ul></div>',
     '<div class="region region-sidebar-second">{}</div>', "<footer>{}</footer>"],
)  # fmt: skip
def test_a_wordpress_widgets_time_is_not_the_posts(widget: str) -> None:
    """A theme without <article>: the <time> search covers the page, where a "recent posts"
    widget prints the other posts' dates in the theme's own classes."""
    stamp = '<time class="entry-date published" datetime="2011-01-01T10:00:00+01:00">1 stycznia 2011</time>'
    page = (f'<html><body><h1 class="entry-title">Nabór</h1><div class="entry-content"><p>Treść.</p></div>'
            f"{widget.format(stamp)}</body></html>")  # fmt: skip
    assert ArticleParser().parse(page, "https://x.pl/nabor/").published_at is None
    footer_of_the_post = (
        f'<html><body><article><h1 class="entry-title">Nabór</h1><div class="entry-content"><p>Treść.</p></div>'
        f'<footer class="entry-footer">{stamp}</footer></article></body></html>'
    )
    assert ArticleParser().parse(footer_of_the_post, "https://x.pl/nabor/").published_at is not None


def test_an_empty_headline_does_not_take_the_logos_heading_for_the_title() -> None:
    """rops.rzeszow.pl with the article's <h1> printed empty: the first <h1> left on the page is
    the site's name in its logo, which would replace the stored title."""
    page = (
        '<html><head><title>{}</title></head><body><div id="top"><h1 class="logo">Regionalny Ośrodek Polityki '
        'Społecznej w Rzeszowie</h1></div><div class="article"><h1></h1><div class="article-content"><p>W bieżącym '
        "roku Województwo Podkarpackie przyznało 1 861 504,00 zł organizacjom.</p></div></div></body></html>"
    )
    selectors = Selectors(title="div.article h1", body="div.article-content")
    untitled = ArticleParser(selectors).parse(page.format(""), "https://www.rops.rzeszow.pl/a-1633-x")
    assert untitled.title is None and "no title" in untitled.problems
    titled = page.format("Ponad 1 800 000,00 zł dla organizacji - Regionalny Ośrodek Polityki Społecznej w Rzeszowie")
    assert ArticleParser(selectors).parse(titled, "https://x.pl/a").title == "Ponad 1 800 000,00 zł dla organizacji"
