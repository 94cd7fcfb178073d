"""Variants of the bundled mirror for tests: a snapshot root laid over the bundled one.

Each function writes into `root/<host>/` what turns the healthy MCPS copy into a site with its REST
API disabled, its feed gone, bad pages, or an edited post. The bad pages are derived from the
bundled (real-text) pages, so every variant still carries only real announcement texts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.wp_rest import api_query

HOST = "mcps.com.pl"
BUNDLED = SNAPSHOT_DIR / HOST

NGO = "/ngo-moga-juz-ubiegac-sie-o-dotacje/aktualnosci/"
MMES_2021 = "/ekonomia-spoleczna/konkurs-mazowiecka-marka-ekonomii-spolecznej-2021/"
IX_POSIEDZENIE = "/ix-posiedzenie-mazowieckiego-komitetu-rozwoju-ekonomii-spolecznej/ekonomia-spoleczna/"
SWIETO = "/swieto-ekonomii-spolecznej/informacje-prasowe/"


def _append_routes(root: Path, text: str) -> None:
    site = root / HOST
    site.mkdir(parents=True, exist_ok=True)
    with (site / "routes.toml").open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")


def api_disabled(root: Path) -> None:
    """As with the "Disable REST API" plugins common on Polish public WordPress sites."""
    body = (
        '{"code":"rest_cannot_access","message":"Only authenticated users can access the REST API.",'
        '"data":{"status":401}}'
    )
    _append_routes(
        root,
        f'[[route]]\npath = "/wp-json/wp/v2/posts"\nstatus = 401\ncontent_type = "application/json; charset=UTF-8"\n'
        f"body = '{body}'\n",
    )


def feed_disabled(root: Path) -> None:
    _append_routes(root, '[[route]]\npath = "/feed/"\nstatus = 404\nbody = "<h1>Nie znaleziono</h1>"\n')


def bad_pages(root: Path) -> None:
    """A 404, a 500, a page in windows-1250 and a page with broken HTML."""
    _append_routes(root, f'[[route]]\npath = "{NGO}"\nstatus = 404\nbody = "<h1>Nie znaleziono strony</h1>"\n')
    _append_routes(root, f'[[route]]\npath = "{MMES_2021}"\nstatus = 500\nbody = "Internal Server Error"\n')

    page = (BUNDLED / IX_POSIEDZENIE.strip("/") / "index.html").read_text(encoding="utf-8")
    page = page.replace('<meta charset="UTF-8">', '<meta charset="windows-1250">')
    cp1250 = root / HOST / "fixtures" / "ix-posiedzenie-cp1250.html"
    cp1250.parent.mkdir(parents=True, exist_ok=True)
    cp1250.write_bytes(page.encode("cp1250", errors="xmlcharrefreplace"))
    _append_routes(root, f'[[route]]\npath = "{IX_POSIEDZENIE}"\nfile = "fixtures/ix-posiedzenie-cp1250.html"\n'
                   'content_type = "text/html; charset=windows-1250"\n')  # fmt: skip

    page = (BUNDLED / SWIETO.strip("/") / "index.html").read_text(encoding="utf-8")
    head, _, rest = page.partition('<div class="entry-content">')
    content, _, _ = rest.partition("</div>")
    # unclosed tags all over, but its end is there (a page cut off is another fault: see cut_off)
    broken = (head.replace("</head>", "").replace("<h1 class=\"entry-title\">", "<h1 class=entry-title><b>")
              + '<div class="entry-content">' + content.replace("</p>", "") + "<table><tr><td>\n</body></html>"
              )  # fmt: skip
    broken_file = root / HOST / "fixtures" / "swieto-broken.html"
    broken_file.write_text(broken, encoding="utf-8")
    _append_routes(root, f'[[route]]\npath = "{SWIETO}"\nfile = "fixtures/swieto-broken.html"\n')


def wrong_charset_labels(root: Path) -> None:
    """Three pages whose labels lie, as old Polish servers' do: windows-1250 sent as
    "charset=iso-8859-1" (the page's meta tag right), UTF-8 sent as "charset=windows-1250", and
    ISO-8859-2 sent as "charset=utf-8" with no meta tag at all."""
    variants = (
        (IX_POSIEDZENIE, "cp1250", "iso-8859-1", '<meta charset="windows-1250">'),
        (SWIETO, "utf-8", "windows-1250", '<meta charset="UTF-8">'),
        (MMES_2021, "iso8859-2", "utf-8", ""),
    )
    for path, encoding, label, meta in variants:
        page = (BUNDLED / path.strip("/") / "index.html").read_text(encoding="utf-8")
        page = page.replace('<meta charset="UTF-8">', meta)
        name = f"fixtures/{path.strip('/').replace('/', '-')}-{encoding}.html"
        target = root / HOST / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(page.encode(encoding, errors="xmlcharrefreplace"))
        _append_routes(root, f'[[route]]\npath = "{path}"\nfile = "{name}"\n'
                       f'content_type = "text/html; charset={label}"\n')  # fmt: skip


def edited_post(root: Path, new_title: str) -> str:
    """Page 1 of the REST API with the newest post's title edited; returns that post's URL."""
    return _newest_post_changed(root, "title", new_title)


def emptied_post(root: Path) -> str:
    """Page 1 of the REST API with the newest post's content reduced to a spacer, as a broken
    editor or plugin leaves it; returns that post's URL."""
    return _newest_post_changed(root, "content", "<p>&nbsp;</p>")


def _newest_post_changed(root: Path, field: str, rendered: str) -> str:
    posts = json.loads((BUNDLED / "wp-json/wp/v2/posts-page-1.json").read_text(encoding="utf-8"))
    posts[0][field]["rendered"] = rendered
    target = root / HOST / "fixtures" / f"posts-page-1-{field}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(posts, ensure_ascii=False), encoding="utf-8")
    _append_routes(root, f'[[route]]\npath = "/wp-json/wp/v2/posts"\nquery = "{api_query(5, 1)}"\n'
                   f'file = "fixtures/posts-page-1-{field}.json"\n'
                   'headers = { "X-WP-Total" = "7", "X-WP-TotalPages" = "2" }\n')  # fmt: skip
    return str(posts[0]["link"])


# -- URL identity and tombstones ---------------------------------------------------------------

ES_HOST = "es.mcps-efs.pl"
ES_BUNDLED = SNAPSHOT_DIR / ES_HOST
MKRES = "/artyku%C5%82/vii-posiedzenie-mkres"
MKRES_FILE = "_routed/artykul-vii-posiedzenie-mkres-3c962477.html"
MMES_2018_NODE = "/node/20238"  # Drupal's id URL of the MMES 2018 call (its <link rel="shortlink">)
MMES_2018 = "/artyku%C5%82/rusza-konkurs-mazowiecka-marka-ekonomii-spo%C5%82ecznej%E2%80%99-2018"
EDITED_SENTENCE = "Posiedzenie prowadził przewodniczący Komitetu."


def _write_routes(root: Path, host: str, text: str) -> None:
    site = root / host
    site.mkdir(parents=True, exist_ok=True)
    with (site / "routes.toml").open("a", encoding="utf-8") as handle:
        handle.write(text + "\n")


def es_reached_by_other_urls(root: Path) -> None:
    """The MCPS ES portal's listing linking two of its pages by other URLs of the same pages.

    The MKRES report through the alias host www.es.mcps-efs.pl, with a trailing slash and a
    newsletter's tracking parameter, where the page (served without rel=canonical or shortlink, so
    only the URL's identity can tell) has one more closing sentence; the MMES 2018 call by its
    Drupal id URL `/node/69144`.
    """
    listing = (ES_BUNDLED / "_routed/articles-9c67d26e.html").read_text(encoding="utf-8")
    listing = listing.replace(f'href="{MKRES}"', f'href="http://www.{ES_HOST}{MKRES}/?utm_source=newsletter"')
    listing = listing.replace(f'href="{MMES_2018}"', f'href="{MMES_2018_NODE}"')
    (root / ES_HOST / "fixtures").mkdir(parents=True, exist_ok=True)
    (root / ES_HOST / "fixtures/articles.html").write_text(listing, encoding="utf-8")
    _write_routes(root, ES_HOST, '[[route]]\npath = "/articles"\nquery = ""\nfile = "fixtures/articles.html"\n')
    node = ES_BUNDLED / "_routed/artykul-rusza-konkurs-mazowiecka-marka-ekonomii-spolecznej-2018-14b7fae1.html"
    _write_routes(root, ES_HOST, f'[[route]]\npath = "{MMES_2018_NODE}"\nfile = "fixtures/node.html"\n')
    (root / ES_HOST / "fixtures/node.html").write_bytes(node.read_bytes())

    page = (ES_BUNDLED / MKRES_FILE).read_text(encoding="utf-8")
    page = "\n".join(
        line for line in page.splitlines() if 'rel="canonical"' not in line and 'rel="shortlink"' not in line
    )
    footnote = page.index("<p>1 - Wytyczne")  # the body's last paragraph
    page = page[:footnote] + f"<p>{EDITED_SENTENCE}</p>\n" + page[footnote:]
    alias = root / f"www.{ES_HOST}"
    (alias / "fixtures").mkdir(parents=True, exist_ok=True)
    (alias / "fixtures/mkres.html").write_text(page, encoding="utf-8")
    _write_routes(root, f"www.{ES_HOST}", f'[[route]]\npath = "{MKRES}/"\nfile = "fixtures/mkres.html"\n')


def _api_page(root: Path, number: int, posts: list[dict] | bytes, total: int = 6, pages: int = 2) -> None:
    target = root / HOST / "fixtures" / f"posts-page-{number}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(posts if isinstance(posts, bytes) else json.dumps(posts, ensure_ascii=False).encode())
    query = api_query(5, number)
    _append_routes(root, f'[[route]]\npath = "/wp-json/wp/v2/posts"\nquery = "{query}"\n'
                   f'file = "fixtures/posts-page-{number}.json"\n'
                   f'headers = {{ "X-WP-Total" = "{total}", "X-WP-TotalPages" = "{pages}" }}\n')  # fmt: skip


def api_post_moved_and_post_deleted(root: Path, new_link: str) -> tuple[dict, dict]:
    """REST page 1 with the newest post's permalink changed (an editor fixed its slug) and the
    second post deleted; returns (moved post, deleted post) as the bundled API had them."""
    posts = json.loads((BUNDLED / "wp-json/wp/v2/posts-page-1.json").read_text(encoding="utf-8"))
    moved, deleted = dict(posts[0]), posts[1]
    changed = [{**moved, "link": new_link}, *posts[2:]]
    _api_page(root, 1, changed)
    return moved, deleted


def api_post_deleted(root: Path) -> dict:
    """REST page 1 without its second post, deleted by an editor, and the listing's count one less
    (`X-WP-Total: 6`); page 2 as it was. Returns the deleted post as the bundled API had it."""
    posts = json.loads((BUNDLED / "wp-json/wp/v2/posts-page-1.json").read_text(encoding="utf-8"))
    _api_page(root, 1, [posts[0], *posts[2:]])
    return posts[1]


def featured_media(root: Path) -> tuple[str, dict]:
    """REST page 1 with the newest post given a featured image, embedded as WordPress embeds it
    (`_embed=wp:featuredmedia`: the attachment's own REST form); returns (post URL, media)."""
    posts = json.loads((BUNDLED / "wp-json/wp/v2/posts-page-1.json").read_text(encoding="utf-8"))
    post = posts[0]
    month = post["date"][:7].replace("-", "/")
    media = {
        "id": 90001,
        "date": post["date"],
        "slug": f"grafika-{post['id']}",
        "type": "attachment",
        "link": f"{post['link']}grafika-{post['id']}/",
        "title": {"rendered": f"grafika-{post['id']}"},
        "author": 2,
        "caption": {"rendered": f"<p>{post['title']['rendered']}</p>\n"},
        "alt_text": "Plakat wydarzenia",
        "media_type": "image",
        "mime_type": "image/jpeg",
        "media_details": {"width": 1200, "height": 628, "file": f"{month}/grafika-{post['id']}.jpg"},
        "source_url": f"https://{HOST}/wp-content/uploads/{month}/grafika-{post['id']}.jpg",
    }
    post["featured_media"] = media["id"]
    post["_embedded"]["wp:featuredmedia"] = [media]
    _api_page(root, 1, posts)
    return str(post["link"]), media


def listing_links_post_ids(root: Path) -> None:
    """HTML listings linking posts by their WordPress id (`/?p=ID`), which the site redirects to
    the permalink, as WordPress does for shortlinks."""
    posts = [post for n in (1, 2) for post in json.loads(
        (BUNDLED / f"wp-json/wp/v2/posts-page-{n}.json").read_text(encoding="utf-8"))]  # fmt: skip
    for listing in ("aktualnosci/index.html", "aktualnosci/page/2/index.html"):
        page = (BUNDLED / listing).read_text(encoding="utf-8")
        for post in posts:
            page = page.replace(f'href="{post["link"]}"', f'href="https://{HOST}/?p={post["id"]}"')
        target = root / HOST / listing
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
    for post in posts:
        _append_routes(root, f'[[route]]\npath = "/"\nquery = "p={post["id"]}"\nstatus = 301\n'
                       f'location = "{post["link"]}"\nbody = ""\n')  # fmt: skip


def api_lists_one_post(root: Path) -> None:
    """The REST API broken into answering its newest post only, and saying that is all there is
    (`X-WP-Total: 1`, `X-WP-TotalPages: 1`): a complete listing, as far as the headers go."""
    posts = json.loads((BUNDLED / "wp-json/wp/v2/posts-page-1.json").read_text(encoding="utf-8"))
    _api_page(root, 1, posts[:1], total=1, pages=1)


def api_newest_post_left_with_a_picture(root: Path) -> None:
    """REST page 1 with the newest post's text gone and only a picture left (a template that lost
    the text, or an editor's slip)."""
    posts = json.loads((BUNDLED / "wp-json/wp/v2/posts-page-1.json").read_text(encoding="utf-8"))
    picture = '<p><img src="https://mcps.com.pl/wp-content/uploads/2023/12/plakat.jpg" alt="Plakat"></p>'
    posts[0] = {**posts[0], "content": {**posts[0]["content"], "rendered": picture}}
    _api_page(root, 1, posts)


def api_cut_off(root: Path) -> None:
    """REST page 1 served whole as far as HTTP goes (HTTP 200, JSON, a Content-Length that
    matches) but cut off in the middle of its JSON, as when PHP dies half-way through a page."""
    body = (BUNDLED / "wp-json/wp/v2/posts-page-1.json").read_bytes()
    _api_page(root, 1, body[: len(body) // 2])


# -- layout changes ---------------------------------------------------------------------------

KRAKOW_HOST = "www.rops.krakow.pl"
KRAKOW_LISTING = "https://www.rops.krakow.pl/aktualnosci.html"


def krakow_listing_redesigned(root: Path) -> None:
    """rops.krakow.pl's news listing after a redesign that renamed its items' class: the page is
    there, its links too, but the registry's listing selector finds none of them."""
    page = (SNAPSHOT_DIR / KRAKOW_HOST / "aktualnosci.html").read_bytes()
    assert b'class="news-item"' in page, "the bundled listing has the class the registry selects"
    target = root / KRAKOW_HOST / "fixtures" / "aktualnosci.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(page.replace(b'class="news-item"', b'class="news-entry"'))
    _write_routes(root, KRAKOW_HOST, '[[route]]\npath = "/aktualnosci.html"\nquery = ""\n'
                  'file = "fixtures/aktualnosci.html"\ncontent_type = "text/html; charset=iso-8859-2"\n')  # fmt: skip


KRAKOW_FILES_ARTICLE = "/aktualnosc/bilans-potrzeb-w-zakresie-pomocy-spolecznej-na-rok-2007-330.html"


def krakow_article_changed(root: Path, name: str, change: Callable[[str], str],
                           path: str = KRAKOW_FILES_ARTICLE) -> None:  # fmt: skip
    """A rops.krakow.pl article (`path`, by default the one with three questionnaires in its
    "news-files") served as `change` makes it, in the site's ISO-8859-2 as the real one is."""
    page = (SNAPSHOT_DIR / KRAKOW_HOST / path.strip("/")).read_bytes().decode("iso-8859-2")
    changed = change(page)
    assert changed != page, f"{name}: the change changed nothing"
    target = root / KRAKOW_HOST / "fixtures" / f"{name}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(changed.encode("iso-8859-2"))
    _write_routes(root, KRAKOW_HOST, f'[[route]]\npath = "{path}"\nfile = "fixtures/{name}.html"\n'
                  'content_type = "text/html; charset=iso-8859-2"\n')  # fmt: skip


# -- error pages served with HTTP 200 ----------------------------------------------------------

RZESZOW_HOST = "www.rops.rzeszow.pl"
RZESZOW_ARTICLE = (
    "/a-1633-ponad-1-800-00000-zl-z-budzetu-wojewodztwa-podkarpackiego-dla-organizacji-dzialajacych-na-rzecz-"
    "osob-z-niepelnosprawnosciami"
)


def soft_404(root: Path) -> None:
    """A known rops.rzeszow.pl article now answers HTTP 200 with the site's own "not found" page:
    its layout (menu, sidebar) around an error message instead of the announcement."""

    def error_page(page: str) -> str:
        head, _, rest = page.partition('<div class="article">')
        _, _, tail = rest.partition('<div class="back">')
        error = ('<div class="article">\n  <h1>Strona nie została znaleziona</h1>\n  <div class="article-content">\n'
                 "  <p>Przepraszamy, strona o podanym adresie nie istnieje.</p>\n  </div>\n  "
                 '<div class="back">')  # fmt: skip
        return head + error + tail

    rzeszow_article_changed(root, "soft-404", error_page)


def rzeszow_article_changed(root: Path, name: str, change: Callable[[str], str], path: str = RZESZOW_ARTICLE) -> None:
    """A rops.rzeszow.pl article (`path`) served as `change` makes it."""
    routes = (SNAPSHOT_DIR / RZESZOW_HOST / "routes.toml").read_text(encoding="utf-8")
    found = re.search(rf'path = "{re.escape(path)}"\nfile = "([^"]+)"', routes)
    assert found is not None, "the bundled rops.rzeszow.pl copy has the article"
    page = (SNAPSHOT_DIR / RZESZOW_HOST / found.group(1)).read_text(encoding="utf-8")
    changed = change(page)
    assert changed != page, f"{name}: the change changed nothing"
    target = root / RZESZOW_HOST / "fixtures" / f"{name}.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(changed, encoding="utf-8")
    _write_routes(root, RZESZOW_HOST, f'[[route]]\npath = "{path}"\nfile = "fixtures/{name}.html"\n')


# -- pages that fail, then recover ---------------------------------------------------------------

RZESZOW_SECOND_PAGE_ARTICLE = "/a-610-podpisanie-umowy-z-caritas-archidiecezji-przemyskiej"  # on listing page 2


def rzeszow_page_answers(
    path: str, status: int, query: str | None = None, *, headers: dict[str, str] | None = None,
    times: int | None = None,
) -> Callable[[Path], None]:  # fmt: skip
    """An overlay in which one rops.rzeszow.pl page (`path`, and `query` when given) answers
    `status` (e.g. 500) instead of itself, with `headers` (e.g. Retry-After); only to its first
    `times` requests when given (then it is itself again)."""
    matched = f'path = "{path}"\n' + (f'query = "{query}"\n' if query is not None else "")
    if headers:
        matched += "headers = { " + ", ".join(f'"{k}" = "{v}"' for k, v in headers.items()) + " }\n"
    if times is not None:
        matched += f"times = {times}\n"

    def overlay(root: Path) -> None:
        _write_routes(root, RZESZOW_HOST, f'[[route]]\n{matched}status = {status}\nbody = "Błąd serwera"\n')

    return overlay


def rzeszow_article_without_body(root: Path) -> None:
    """The listing page 2 article served with its text gone (a broken template): it parses with
    problems, and the crawl keeps only its raw copy."""

    def emptied(page: str) -> str:
        head, _, rest = page.partition('<div class="article">')
        _, _, tail = rest.partition('<div class="back">')
        return head + '<div class="article">\n  <div class="back">' + tail

    rzeszow_article_changed(root, "a-610-empty", emptied, RZESZOW_SECOND_PAGE_ARTICLE)


RZESZOW_SECOND_PAGE_TITLE = "Podpisanie umowy z Caritas Archidiecezji Przemyskiej"  # its heading, and its link's text


def rzeszow_article_untitled(root: Path) -> None:
    """The listing page 2 article served with no title of its own (a template change): its heading
    gone and its `<title>` only the site's name. Only the listing link's text can title it."""

    def untitled(page: str) -> str:
        page = page.replace(f"<h1>{RZESZOW_SECOND_PAGE_TITLE}</h1>", "")
        return page.replace(f"<title>{RZESZOW_SECOND_PAGE_TITLE} - ", "<title>")

    rzeszow_article_changed(root, "a-610-untitled", untitled, RZESZOW_SECOND_PAGE_ARTICLE)


def rzeszow_listing_delayed(query: str, delay: float) -> Callable[[Path], None]:
    """An overlay in which the rops.rzeszow.pl listing page `query` ("strona=2") comes as itself,
    after `delay` seconds: time to stop a crawl between the first listing page's articles and the
    rest."""
    routes = (SNAPSHOT_DIR / RZESZOW_HOST / "routes.toml").read_text(encoding="utf-8")
    found = re.search(rf'path = "/aktualnosci"\nquery = "{re.escape(query)}"\nfile = "([^"]+)"', routes)
    assert found is not None, f"the bundled rops.rzeszow.pl copy has the listing page {query}"
    page = (SNAPSHOT_DIR / RZESZOW_HOST / found.group(1)).read_bytes()

    def overlay(root: Path) -> None:
        target = root / RZESZOW_HOST / "fixtures" / "listing-delayed.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(page)
        _write_routes(root, RZESZOW_HOST, f'[[route]]\npath = "/aktualnosci"\nquery = "{query}"\n'
                      f'file = "fixtures/listing-delayed.html"\ncontent_type = "text/html; charset=utf-8"\n'
                      f"delay = {delay}\n")  # fmt: skip

    return overlay


def rzeszow_listing_of_many(count: int, article: str = RZESZOW_ARTICLE) -> Callable[[Path], None]:
    """An overlay in which rops.rzeszow.pl's first listing page links `count` more articles after
    its own (`/a-9001-kopia` …), each a copy of the real page `article` under its own URL: a crawl
    with a long queue of one site's pages, as a first crawl or a busy week has."""
    paths = [f"/a-{9000 + n}-kopia" for n in range(1, count + 1)]
    hrefs = [f"https://{RZESZOW_HOST}{path}" for path in paths]
    return _rzeszow_listing_with(hrefs, "Kopia", "listing-of-many.html", paths, article)


def rzeszow_listing_linking(*hrefs: str, served: tuple[str, ...] = ()) -> Callable[[Path], None]:
    """An overlay in which rops.rzeszow.pl's first listing page has, after its own items, items
    linking to `hrefs`; of these, the site's paths `served` answer as a copy of a real article,
    the others are not served (other sites' pages, in the tests)."""
    return _rzeszow_listing_with(list(hrefs), "Link", "listing-linking.html", list(served), RZESZOW_ARTICLE)


def _rzeszow_listing_with(
    hrefs: list[str], label: str, name: str, served: list[str], article: str
) -> Callable[[Path], None]:
    """rops.rzeszow.pl's first listing page with items linking to `hrefs` after its own (their link
    texts `label 1`, `label 2` …), written as fixtures/`name`; the site's paths `served` answer as a
    copy of the real page `article`."""
    routes = (SNAPSHOT_DIR / RZESZOW_HOST / "routes.toml").read_text(encoding="utf-8")
    listing = re.search(r'path = "/aktualnosci"\nfile = "([^"]+)"', routes)
    page = re.search(rf'path = "{re.escape(article)}"\nfile = "([^"]+)"', routes)
    assert listing is not None and page is not None, "the bundled rops.rzeszow.pl copy has them"

    def overlay(root: Path) -> None:
        text = (SNAPSHOT_DIR / RZESZOW_HOST / listing.group(1)).read_text(encoding="utf-8")
        items = "".join(f'  <div class="news-item">\n    <h2><a href="{href}">{label} {n}</a></h2>\n  </div>\n\n'
                        for n, href in enumerate(hrefs, 1))  # fmt: skip
        text = text.replace('</div>\n<div class="pager">', f'{items}</div>\n<div class="pager">', 1)
        assert items in text, "the listing's items end before its pager"
        fixtures = root / RZESZOW_HOST / "fixtures"
        fixtures.mkdir(parents=True, exist_ok=True)
        (fixtures / name).write_text(text, encoding="utf-8")
        (fixtures / "copy.html").write_bytes((SNAPSHOT_DIR / RZESZOW_HOST / page.group(1)).read_bytes())
        _write_routes(root, RZESZOW_HOST, '[[route]]\npath = "/aktualnosci"\nquery = ""\nfile = '
                      f'"fixtures/{name}"\ncontent_type = "text/html; charset=utf-8"\n')  # fmt: skip
        for path in served:
            _write_routes(root, RZESZOW_HOST, f'[[route]]\npath = "{path}"\nfile = "fixtures/copy.html"\n'
                          'content_type = "text/html; charset=utf-8"\n')  # fmt: skip

    return overlay
