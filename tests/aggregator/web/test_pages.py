"""The web page through Starlette's TestClient: listing, filters, search, paging, story pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from aggregator.web.app import create_app
from db.engine import session_scope
from db.migrate import upgrade
from tests.aggregator.web.conftest import _announcement, _source, fill


@pytest.fixture(scope="module")
def client(web_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(web_database)) as test_client:
        yield test_client


def titles(html: str) -> list[str]:
    return re.findall(r'<h2><a href="[^"]+">([^<]+)</a></h2>', html)


def test_front_page_lists_stories_newest_first_with_paging(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    listed = titles(response.text)
    assert listed[:3] == [
        "Nabór wniosków dla spółdzielni socjalnych",
        "Szkolenie dla asystentów rodziny",
        "Konkurs ofert &lt;b&gt;2024&lt;/b&gt;",
    ], "one entry per story, newest first, title escaped"
    assert "MCPS: nabór dla spółdzielni" not in listed, "the copy is inside its story"
    assert len(listed) == 20 and "Razem 28 wiadomości · strona 1 z 2" in response.text
    assert "2 źródła" in response.text and "12 marca 2024" in response.text
    second = client.get("/?page=2")
    assert len(titles(second.text)) == 8 and not set(titles(second.text)) & set(listed)
    assert 'rel="prev" href="/"' in second.text


def test_filters_and_search(client: TestClient) -> None:
    podlaskie = titles(client.get("/?voivodeship=podlaskie").text)
    assert podlaskie == ["Nabór wniosków dla spółdzielni socjalnych", "Szkolenie dla asystentów rodziny"]
    assert titles(client.get("/?voivodeship=Podlaskie").text) == podlaskie, "a feed URL typed by hand"
    assert titles(client.get("/?source=rops-bialystok&q=szkolenie").text) == ["Szkolenie dla asystentów rodziny"]
    by_entity = client.get("/?entity=mcps&voivodeship=podlaskie").text
    assert titles(by_entity) == ["Nabór wniosków dla spółdzielni socjalnych"], "the copy mentions MCPS"
    folded = client.get("/?q=NABOR+spoldzielni").text
    assert titles(folded) == ["Nabór wniosków dla spółdzielni socjalnych"] and "Znaleziono 1 wiadomość" in folded
    nothing = client.get("/?q=nieistniejace").text
    assert titles(nothing) == [] and "Nic nie znaleziono dla zapytania „nieistniejace”" in nothing
    assert "Brak wiadomości spełniających wybrane kryteria" in client.get("/?source=mcps&voivodeship=podlaskie").text


def test_bad_parameters_are_a_clear_400(client: TestClient) -> None:
    response = client.get("/?voivodeship=mazowsze")
    assert response.status_code == 400 and "Nieznane województwo „mazowsze”" in response.text
    assert client.get("/?page=0").status_code == 400
    assert client.get("/?page=abc").status_code == 400
    assert client.get("/feed.atom?limit=5000").status_code == 400
    too_long = client.get("/?q=" + "a" * 201)
    assert too_long.status_code == 400 and "jest za długi" in too_long.text
    missing = client.get("/story/nie-ma")
    assert missing.status_code == 404 and "Nie ma takiej strony" in missing.text


def test_story_page_shows_sources_attachments_dates_and_institutions(client: TestClient) -> None:
    page = client.get("/story/story-nabor").text
    assert "Ta wiadomość ukazała się w 2 źródłach." in page and "(rops-bialystok.pl, woj. podlaskie)" in page
    assert 'href="https://mcps.com.pl/aktualnosci/nabor-spoldzielnie/"' in page
    assert 'href="https://www.rops-bialystok.pl/nabor-mcps/"' in page
    assert 'href="https://mcps.com.pl/files/regulamin.pdf"' in page and "(PDF, 245\u00a0kB)" in page, (
        "the type and size as Polish writes them"
    )
    assert "do 15 kwietnia 2024" in page
    assert 'href="/?entity=mcps"' in page and "Mazowieckie Centrum Polityki Społecznej" in page
    assert "12 marca 2024, 10:30" in page, "publication time in Warsaw time"
    picture = '<img src="https://mcps.com.pl/wp-content/uploads/2024/03/nabor.jpg" alt="Spółdzielnia „Razem”'
    assert picture in page
    assert "Fot. MCPS" in page and "javascript:" not in page, "its picture, and only a web address as one"


def test_announcement_page_for_one_without_a_story_and_redirect_for_one_with(
    client: TestClient, web_database: str
) -> None:
    from sqlalchemy import select

    from db.models import Announcement

    with session_scope(web_database) as session:
        copy_id = session.scalar(select(Announcement.id).where(Announcement.url.endswith("/nabor-mcps/")))
    redirect = client.get(f"/announcement/{copy_id}", follow_redirects=False)
    assert redirect.status_code == 302 and redirect.headers["location"] == "/story/story-nabor"
    assert client.get("/announcement/999999").status_code == 404
    front = client.get("/?q=szkolenie").text
    [link] = re.findall(r'href="(/announcement/\d+)"', front)
    page = client.get(link)
    assert (
        page.status_code == 200 and "Szkolenie dla asystentów rodziny" in page.text and "ukazała się" not in page.text
    )


def test_scraped_html_is_neutralised_and_csp_forbids_scripts(client: TestClient) -> None:
    response = client.get("/story/story-xss")
    page = response.text
    body = page.split('<div class="content">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in body and "onerror" not in body and "onclick" not in body
    assert "javascript:" not in body and "<iframe" not in body and "<style" not in body
    assert 'href="https://mcps.com.pl/regulamin.pdf"' in body, "relative links point at the real site"
    assert page.count('href="https://mcps.com.pl/regulamin.pdf"') == 1, "a file the text links is not listed again"
    assert "Nabór wniosków" in body
    policy = response.headers["content-security-policy"]
    assert "script-src 'none'" in policy and "default-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"


def test_feeds_as_urls_with_filters_and_autodiscovery(client: TestClient) -> None:
    import feedparser

    front = client.get("/?voivodeship=podlaskie").text
    autodiscovery = '<link rel="alternate" type="application/atom+xml" title="{}" href="/feed.atom?{}">'
    assert autodiscovery.format("ropsfeed: woj. podlaskie (Atom)", "voivodeship=podlaskie") in front
    for name, media in (("atom", "application/atom+xml"), ("rss", "application/rss+xml")):
        response = client.get(f"/feed.{name}?voivodeship=podlaskie")
        assert response.headers["content-type"].startswith(media)
        parsed = feedparser.parse(response.text)
        assert not parsed.bozo and [e.title for e in parsed.entries] == [
            "Nabór wniosków dla spółdzielni socjalnych", "Szkolenie dla asystentów rodziny"]  # fmt: skip
    document = client.get("/feed.json?q=szkolenie&limit=5").json()
    assert [item["title"] for item in document["items"]] == ["Szkolenie dla asystentów rodziny"]
    assert len(client.get("/feed.json?limit=3").json()["items"]) == 3


def test_feed_urls_carry_the_sanitised_body_and_the_files(client: TestClient) -> None:
    """What the database holds is not trusted: the hostile page's body reaches feed readers as the
    story page shows it (no scripts, links resolved against the real page)."""
    items = {item["id"].rsplit("/", 1)[1]: item for item in client.get("/feed.json?source=mcps").json()["items"]}
    hostile = items["story-xss"]["content_html"]
    assert "<script" not in hostile and "onclick" not in hostile and "javascript:" not in hostile
    assert 'href="https://mcps.com.pl/regulamin.pdf"' in hostile and "<iframe" not in hostile
    assert items["story-nabor"]["attachments"] == [
        {"url": "https://mcps.com.pl/files/regulamin.pdf", "mime_type": "application/pdf", "title": "Regulamin naboru",
         "_ropsfeed": {"file_type": "pdf", "size": "245 KB"}}]  # fmt: skip
    rss = client.get("/feed.rss?source=mcps").text
    assert "&lt;h3&gt;Załączniki&lt;/h3&gt;" in rss and "(PDF, 245\u00a0kB)" in rss, (
        "the size said in Polish (the site wrote 245 KB)"
    )


def test_layout_link_slot_shows_routes_that_exist(web_database: str) -> None:
    from aggregator.web import app as web_app

    original = web_app.ROUTE_MODULES
    web_app.ROUTE_MODULES = tuple(m for m in original if m.__name__ != "aggregator.web.subscriptions")
    try:
        without = TestClient(web_app.create_app(web_database)).get("/").text
    finally:
        web_app.ROUTE_MODULES = original
    assert "Subskrypcja</a>" not in without
    page = TestClient(web_app.create_app(web_database)).get("/").text
    assert '<a href="/subscribe">Subskrypcja</a>' in page


def test_empty_database_says_so(tmp_path: Path) -> None:
    page = TestClient(create_app(f"sqlite:///{tmp_path / 'empty.db'}")).get("/")
    assert page.status_code == 200 and "Baza nie zawiera jeszcze żadnych ogłoszeń" in page.text


@pytest.mark.postgres
def test_pages_on_postgresql(postgres_url: str) -> None:
    client = TestClient(create_app(fill(postgres_url)))
    front = client.get("/?voivodeship=podlaskie&q=nabor")
    assert titles(front.text) == ["Nabór wniosków dla spółdzielni socjalnych"]
    assert "Razem 28 wiadomości" in client.get("/").text
    assert len(titles(client.get("/?page=2").text)) == 8
    story = client.get("/story/story-nabor").text
    assert "do 15 kwietnia 2024" in story and "(PDF, 245\u00a0kB)" in story and 'href="/?entity=mcps"' in story
    assert client.get("/feed.json?entity=mcps&voivodeship=podlaskie").json()["items"][0]["title"].startswith("Nabór")


def test_counting_stops_at_the_cap(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from aggregator.web import pages

    monkeypatch.setattr(pages, "COUNT_CAP", 10)
    first = client.get("/").text
    assert "Razem ponad 10 wiadomości · strona 1" in first and 'rel="next" href="/?page=2"' in first
    last = client.get("/?page=2").text
    assert len(titles(last)) == 8 and 'rel="next"' not in last, "paging does not depend on the count"
    beyond = client.get("/?page=3").text
    assert "Nie ma strony 3." in beyond


def test_filters_the_feed_layer_refuses_are_a_400(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from aggregator.feeds import FeedFilters
    from aggregator.web import filters

    def strict(**values: object) -> FeedFilters:
        if values.get("query") == "!!!":
            raise ValueError("the query has no words")
        return FeedFilters(**values)  # type: ignore[arg-type]

    monkeypatch.setattr(filters, "FeedFilters", strict)
    response = client.get("/?q=!!!")
    assert response.status_code == 400 and "Nieprawidłowe wartości filtrów." in response.text
    assert "the query has no words" not in response.text, "the feed layer's English stays in the log"
    assert client.get("/feed.rss?q=!!!").status_code == 400


def test_a_search_without_words_is_refused_in_polish(client: TestClient) -> None:
    """A query of punctuation only ('"', "*", a zero-width space) is a 400 that says why in Polish:
    the search layer's English message ("the search query '*' has no words…") reached the page."""
    for query, shown in (("%22", "„&#34;”"), ("*", "„*”"), ("%E2%80%9E%E2%80%9D", "„„””"), ("%E2%80%8B", "„\u200b”")):
        for path in ("/", "/feed.atom", "/feed.json"):
            response = client.get(f"{path}?q={query}")
            assert response.status_code == 400, (path, query)
            assert f"Wyszukiwane wyrażenie {shown} nie zawiera żadnego słowa." in response.text, (path, query)
            assert "search query" not in response.text and "has no words" not in response.text


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_control_characters_and_odd_digits_are_a_400_not_a_500(database: str, request: pytest.FixtureRequest) -> None:
    """A NUL in a filter or a story's key made PostgreSQL refuse the query (a 500), and echoed into
    the page it is a code point HTML forbids; "²" passed str.isdigit() and int() raised (a 500 on
    both databases); "٢" passed as page 2; an announcement number past int4 (PostgreSQL) or past
    2**63 (SQLite) was a 500, not a 404."""
    if database == "sqlite":
        url = request.getfixturevalue("web_database")
    else:
        url = fill(request.getfixturevalue("postgres_url"))
    client = TestClient(create_app(url), raise_server_exceptions=False)
    for name in ("q", "source", "entity", "voivodeship"):
        for path in ("/", "/feed.rss"):
            response = client.get(f"{path}?{name}=na%00bor")
            assert response.status_code == 400, (name, path)
            assert f"Parametr „{name}” zawiera niedozwolone znaki sterujące." in response.text
            assert "\x00" not in response.text
    assert client.get("/?q=nab%01or").status_code == 400
    assert client.get("/?q=nab%C3%B3r%09wniosk%C3%B3w").status_code == 200, "a tab is only a space"
    assert client.get("/story/story%00nabor").status_code == 404
    for number in ("2147483648", "9223372036854775807", "99999999999999999999"):  # past int4, past SQLite's ints
        assert client.get(f"/announcement/{number}").status_code == 404, number
    for path, name in (("/?page=", "page"), ("/feed.json?limit=", "limit")):
        for digits in ("%C2%B2", "%D9%A2", "%EF%BC%92"):  # "²", Arabic-Indic 2, fullwidth 2
            response = client.get(path + digits)
            assert response.status_code == 400 and f"Parametr „{name}” musi być liczbą" in response.text, digits


def test_feeds_answer_conditional_requests(client: TestClient) -> None:
    first = client.get("/feed.rss?source=mcps")
    tag = first.headers["etag"]
    assert first.status_code == 200 and first.headers["cache-control"].startswith("public")
    again = client.get("/feed.rss?source=mcps", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert client.get("/feed.rss?source=rops-bialystok", headers={"If-None-Match": tag}).status_code == 200
    assert client.get("/feed.atom?source=mcps", headers={"If-None-Match": tag}).status_code == 200


def test_an_announcement_whose_site_gives_no_date_says_so(tmp_path: Path) -> None:
    """Not a blank where the date goes: the reader learns the institution's page gives none."""
    url = f"sqlite:///{tmp_path / 'undated.db'}"
    upgrade(url)
    with session_scope(url, write=True) as session:
        session.add(_source("rops-kielce", "Regionalny Ośrodek Polityki Społecznej w Kielcach", "świętokrzyskie",
                            "https://www.es.umws.pl/", "rops-kielce"))  # fmt: skip
        session.flush()  # the source row first: the announcement refers to it
        session.add(_announcement("rops-kielce", "https://www.es.umws.pl/aktualnosci/item/416-x",
                                  "Obradował Regionalny Komitet Rozwoju Ekonomii Społecznej",
                                  "<p>W poniedziałek, 4 grudnia, obradował Komitet.</p>", None, None))  # fmt: skip
    with TestClient(create_app(url)) as client:
        page = client.get("/").text
        link = re.search(r'<h2><a href="(/announcement/\d+)">', page)
        single = client.get(link.group(1)).text if link else ""
    assert "Obradował Regionalny Komitet" in page
    assert '<span class="undated" title="Strona instytucji nie podaje daty publikacji">bez daty</span>' in page
    assert ">Bez daty publikacji</span> · Regionalny Ośrodek Polityki Społecznej w Kielcach" in " ".join(single.split())


def test_sources_are_grouped_by_voivodeship_in_polish_order(tmp_path: Path) -> None:
    """ "łódzkie" between "lubuskie" and "małopolskie", "małopolskie" before "mazowieckie", "śląskie"
    after "pomorskie": not after "zachodniopomorskie", where code point order puts Ł and Ś."""
    url = f"sqlite:///{tmp_path / 'voivodeships.db'}"
    upgrade(url)
    sources = [
        ("rops-szczecin", "zachodniopomorskie"), ("rcps-lodz", "łódzkie"), ("rops-katowice", "śląskie"),
        ("mcps", "mazowieckie"), ("rops-krakow", "małopolskie"), ("rops-zielona-gora", "lubuskie"),
    ]  # fmt: skip
    with session_scope(url, write=True) as session:
        session.add_all([_source(s, f"Ośrodek {s}", v, f"https://{s}.example.pl/", s) for s, v in sources])
        session.flush()
        session.add_all([
            _announcement(s, f"https://{s}.example.pl/a", f"Ogłoszenie {s}", "<p>Tekst.</p>", None, None)
            for s, _ in sources
        ])  # fmt: skip
    with TestClient(create_app(url)) as client:
        for page in ("/", "/subscribe"):
            groups = re.findall(r'<optgroup label="([^"]+)">', client.get(page).text)
            assert groups == ["lubuskie", "łódzkie", "małopolskie", "mazowieckie", "śląskie", "zachodniopomorskie"]


def test_a_method_not_allowed_says_which_are(client: TestClient) -> None:
    """A 405 carries `Allow` (RFC 9110): every method the path takes, though the page and its form
    are two routes (Starlette alone names only the first's), and the error page stays in Polish."""
    cases = {
        ("PUT", "/subscribe"): "GET, HEAD, POST",
        ("DELETE", "/confirm/abc"): "GET, HEAD, POST",
        ("PATCH", "/unsubscribe/abc"): "GET, HEAD, POST",
        ("POST", "/subscribe/sent"): "GET, HEAD",
        ("POST", "/"): "GET, HEAD",
        ("POST", "/story/story-nabor"): "GET, HEAD",
        ("POST", "/feed.atom"): "GET, HEAD",
        ("POST", "/static/style.css"): "GET, HEAD",
    }
    for (method, path), allowed in cases.items():
        response = client.request(method, path)
        assert response.status_code == 405 and response.headers.get("allow") == allowed, (method, path)
        assert "Ta metoda nie jest obsługiwana." in response.text and "content-security-policy" in response.headers


def test_feeds_compare_tags_weakly(client: TestClient) -> None:
    """If-None-Match takes the weak comparison (RFC 9110 §13.1.2): a cache or proxy that compressed
    the feed sends its tag back as `W/"…"`, and the feed answered it with the whole body again."""
    tag = client.get("/feed.atom?voivodeship=mazowieckie", headers={"Accept-Encoding": "identity"}).headers["etag"]
    for sent in (f"W/{tag}", f'"other", W/{tag}', f' {tag} ,"x"'):
        response = client.get("/feed.atom?voivodeship=mazowieckie",
                              headers={"Accept-Encoding": "identity", "If-None-Match": sent})  # fmt: skip
        assert response.status_code == 304, sent
    assert client.get("/feed.atom?voivodeship=mazowieckie", headers={"If-None-Match": 'W/"other"'}).status_code == 200


def test_an_unknown_source_or_institution_is_a_400_not_an_empty_list(client: TestClient) -> None:
    """As an unknown voivodeship already was: a feed URL with a typo was an empty feed forever, and
    the page said only that nothing matched. A source of the registry without pages yet is no typo."""
    for path in ("/", "/feed.atom", "/feed.json"):
        source = client.get(f"{path}?source=mpcs")
        assert source.status_code == 400 and "Nieznane źródło „mpcs”." in source.text, path
        entity = client.get(f"{path}?entity=mcsp")
        assert entity.status_code == 400 and "Nieznana instytucja „mcsp”." in entity.text, path
    registered = client.get("/?source=rops-krakow")  # in the registry, not in this database
    assert registered.status_code == 200 and "Brak wiadomości spełniających wybrane kryteria" in registered.text
    assert client.get("/feed.rss?source=mcps&entity=rops-bialystok").status_code == 200


def test_pages_answer_conditional_requests(client: TestClient) -> None:
    """The pages had no validator: each visit, and each "back" on a phone, loaded the whole page
    again. Now an ETag of the body, revalidated every time (`no-cache`: a crawl may change the list
    at any moment), and a bodiless 304 while it holds; another page or another filter is sent."""
    for path in ("/", "/?page=2", "/?voivodeship=podlaskie&q=nabor", "/story/story-nabor"):
        first = client.get(path, headers={"Accept-Encoding": "identity"})
        tag = first.headers["etag"]
        assert first.status_code == 200 and first.headers["cache-control"] == "no-cache", path
        again = client.get(path, headers={"Accept-Encoding": "identity", "If-None-Match": tag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag, path
        assert "content-security-policy" in again.headers
        head = client.head(path, headers={"If-None-Match": f"W/{tag}"})
        assert head.status_code == 304, path
    other = client.get("/?page=2", headers={"If-None-Match": client.get("/").headers["etag"]})
    assert other.status_code == 200 and len(titles(other.text)) == 8


def test_a_filtered_feed_is_named_by_its_filters(client: TestClient) -> None:
    """Every filtered feed had the one title: a social worker who subscribed to two (her
    voivodeship; a keyword) saw two "ropsfeed – ogłoszenia…" in her feed reader. The unfiltered
    feed keeps its name."""
    named = "ropsfeed: woj. podlaskie · Mazowieckie Centrum Polityki Społecznej · „nabór”"
    query = "voivodeship=podlaskie&entity=mcps&q=nab%C3%B3r"
    assert f"<title>{named}</title>" in client.get(f"/feed.atom?{query}").text
    assert f"<title>{named}</title>" in client.get(f"/feed.rss?{query}").text
    assert client.get(f"/feed.json?{query}").json()["title"] == named
    by_source = client.get("/feed.json?source=mcps").json()["title"]
    assert by_source == "ropsfeed: Mazowieckie Centrum Polityki Społecznej (mcps.com.pl)"
    assert client.get("/feed.json").json()["title"] == "ropsfeed – ogłoszenia regionalnych ośrodków polityki społecznej"


def test_the_tab_and_the_feed_finder_name_the_filters(client: TestClient) -> None:
    """The tab (and a bookmark) said "Wiadomości" whatever was chosen, and a browser's feed finder
    offered "ropsfeed (Atom)" for every filtered view; both name what is shown now."""

    def names(path: str) -> tuple[str, str]:
        page = client.get(path).text
        title = re.search(r"<title>(.*?) – ogłoszenia", page, re.S)
        feed = re.search(r'<link rel="alternate" type="application/atom\+xml" title="([^"]*)"', page)
        assert title and feed, path
        return " ".join(title.group(1).split()), feed.group(1)

    assert names("/") == ("Wiadomości", "ropsfeed (Atom)")
    assert names("/?page=2") == ("Wiadomości, strona 2", "ropsfeed (Atom)")
    assert names("/?voivodeship=podlaskie&entity=mcps") == (
        "Wiadomości (woj. podlaskie · Mazowieckie Centrum Polityki Społecznej)",
        "ropsfeed: woj. podlaskie · Mazowieckie Centrum Polityki Społecznej (Atom)",
    )
    assert names("/?q=nabor&source=mcps") == (
        "Szukaj: nabor (Mazowieckie Centrum Polityki Społecznej (mcps.com.pl))",
        "ropsfeed: Mazowieckie Centrum Polityki Społecznej (mcps.com.pl) · „nabor” (Atom)",
    )


def test_a_story_without_text_says_so(tmp_path: Path) -> None:
    """A page whose site gives no text (a listing's link, a bare file) showed the heading "Treść"
    over nothing; now it says so and links the original."""
    url = f"sqlite:///{tmp_path / 'bare.db'}"
    upgrade(url)
    with session_scope(url, write=True) as session:
        session.add(
            _source("mcps", "Mazowieckie Centrum Polityki Społecznej", "mazowieckie", "https://mcps.com.pl/", "mcps")
        )
        session.flush()
        session.add(_announcement("mcps", "https://mcps.com.pl/plik/", "Harmonogram szkoleń", "", None, None))
    with TestClient(create_app(url)) as client:
        link = re.search(r'<h2><a href="(/announcement/\d+)">', client.get("/").text)
        page = client.get(link.group(1)).text if link else ""
    assert "Ta strona instytucji nie zawiera tekstu ogłoszenia." in page
    assert '<a href="https://mcps.com.pl/plik/" rel="noopener noreferrer">Zobacz oryginał</a>' in page


def test_the_texts_headings_sit_under_the_pages_own(tmp_path: Path) -> None:
    """The text is shown under the page's h2 "Treść": its own h2 were siblings of that heading in
    the outline a screen reader walks; they are one level down on the page (the feed keeps them)."""
    url = f"sqlite:///{tmp_path / 'headings.db'}"
    upgrade(url)
    body = "<h2>Cel konkursu</h2><p>Wsparcie.</p><h3>Terminy</h3><p>Do 15 maja.</p><h6>Uwagi</h6>"
    with session_scope(url, write=True) as session:
        session.add(
            _source("mcps", "Mazowieckie Centrum Polityki Społecznej", "mazowieckie", "https://mcps.com.pl/", "mcps")
        )
        session.flush()
        session.add(_announcement("mcps", "https://mcps.com.pl/konkurs/", "Konkurs", body, None, None))
    with TestClient(create_app(url)) as client:
        link = re.search(r'<h2><a href="(/announcement/\d+)">', client.get("/").text)
        page = client.get(link.group(1)).text if link else ""
        feed = client.get("/feed.json").json()["items"][0]["content_html"]
    content = page.split('<div class="content">')[1]
    assert re.findall(r"<(h\d)>", content) == ["h3", "h4", "h6"]
    assert re.findall(r"<(h\d)>", page.split('<div class="content">')[0]) == ["h1", "h2", "h2"]
    assert "<h2>Cel konkursu</h2>" in feed
