"""Variants of the bundled mirror for tests: a snapshot root laid over the bundled one.

Each function writes into `root/<host>/` what turns the healthy MCPS copy into a site with its REST
API disabled, its feed gone, bad pages, or an edited post. The bad pages are derived from the
bundled (real-text) pages, so every variant still carries only real announcement texts.
"""

from __future__ import annotations

import json
from pathlib import Path

from scrapers.mirror.server import SNAPSHOT_DIR

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
    broken = (head.replace("</head>", "").replace("<h1 class=\"entry-title\">", "<h1 class=entry-title><b>")
              + '<div class="entry-content">' + content.replace("</p>", "") + "<table><tr><td>")  # fmt: skip
    broken_file = root / HOST / "fixtures" / "swieto-broken.html"
    broken_file.write_text(broken, encoding="utf-8")
    _append_routes(root, f'[[route]]\npath = "{SWIETO}"\nfile = "fixtures/swieto-broken.html"\n')


def edited_post(root: Path, new_title: str) -> str:
    """Page 1 of the REST API with the newest post's title edited; returns that post's URL."""
    posts = json.loads((BUNDLED / "wp-json/wp/v2/posts-page-1.json").read_text(encoding="utf-8"))
    posts[0]["title"]["rendered"] = new_title
    target = root / HOST / "fixtures" / "posts-page-1-edited.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(posts, ensure_ascii=False), encoding="utf-8")
    _append_routes(root, '[[route]]\npath = "/wp-json/wp/v2/posts"\nquery = "per_page=5&page=1&_embed=wp%3Aterm"\n'
                   'file = "fixtures/posts-page-1-edited.json"\n'
                   'headers = { "X-WP-Total" = "7", "X-WP-TotalPages" = "2" }\n')  # fmt: skip
    return str(posts[0]["link"])
