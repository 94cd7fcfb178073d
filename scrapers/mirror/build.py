"""Builds the offline mirror's snapshot from real announcement texts and platform templates.

The archived copies of the real sites are text only (../shared/SITES.md), so the markup is the
platform's (a WordPress theme, its REST API and RSS feed) wrapped around the real texts in
`texts/<source_id>.json`. Run it after changing a template or a text:

    .venv/bin/python -m scrapers.mirror.build [SOURCE_ID ...]

It rewrites `snapshot/<host>/` of each source it builds and nothing else.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import tomllib
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from aggregator.urls import canonical_url
from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.registry import SourceConfig, get_source

HERE = Path(__file__).parent
TEXTS_DIR = HERE / "texts"
WARSAW = ZoneInfo("Europe/Warsaw")
CATEGORY_SLUGS = {"Aktualności": "aktualnosci", "Ekonomia Społeczna": "ekonomia-spoleczna"}

ENV = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html", "xml"]),
    keep_trailing_newline=True,
)


@dataclass
class Page:
    """One fixture article with everything the templates need."""

    id: int
    url: str
    title: str
    lead: str
    paragraphs: list[str]
    attachments: list[dict[str, Any]]
    categories: list[str]
    published: datetime  # aware, Warsaw
    modified: datetime

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def published_iso(self) -> str:
        return self.published.isoformat()

    @property
    def modified_iso(self) -> str:
        return self.modified.isoformat()

    @property
    def published_rfc822(self) -> str:
        return format_datetime(self.published.astimezone(UTC), usegmt=True)

    @property
    def category_objs(self) -> list[dict[str, str]]:
        return [{"name": c, "slug": CATEGORY_SLUGS.get(c, slugify(c))} for c in self.categories]

    def attachment_url(self, attachment: dict[str, Any], base: str) -> str:
        if attachment.get("url"):
            return str(attachment["url"])
        stem = slugify(attachment["name"])[:60] or "zalacznik"
        return f"{base}wp-content/uploads/{self.published:%Y/%m}/{stem}.pdf"

    def content_html(self, base: str) -> Markup:
        parts = [f"<p>{html.escape(p, quote=False)}</p>" for p in self.paragraphs]
        if self.attachments:
            items = "".join(
                f'<li><a href="{html.escape(self.attachment_url(a, base))}">'
                f"{html.escape(a['name'], quote=False)}</a></li>"
                for a in self.attachments
            )
            parts.append(f"<p><strong>Do pobrania:</strong></p><ul>{items}</ul>")
        return Markup("\n".join(parts))

    def json_ld(self, site: SourceConfig) -> Markup:
        graph = {
            "@context": "https://schema.org",
            "@graph": [
                {
                    "@type": "Article",
                    "@id": f"{self.url}#article",
                    "headline": self.title,
                    "datePublished": self.published_iso,
                    "dateModified": self.modified_iso,
                    "mainEntityOfPage": {"@id": self.url},
                    "publisher": {"@type": "Organization", "name": site.institution},
                    "inLanguage": "pl-PL",
                },
                {"@type": "WebPage", "@id": self.url, "url": self.url, "name": f"{self.title} – {site.institution}"},
            ],
        }
        return Markup(json.dumps(graph, ensure_ascii=False).replace("</", "<\\/"))


def slugify(text: str) -> str:
    table = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
    out = "".join(ch if ch.isalnum() else "-" for ch in text.translate(table).lower())
    return "-".join(filter(None, out.split("-")))


def load_pages(source: SourceConfig) -> list[Page]:
    texts = json.loads((TEXTS_DIR / f"{source.id}.json").read_text(encoding="utf-8"))
    with (HERE / "fixture_dates.toml").open("rb") as handle:
        dates = tomllib.load(handle).get(source.id, {})
    pages = []
    for article in texts["articles"]:
        url = canonical_url(article["url"].replace("http://", "https://", 1))
        if urlsplit(url).netloc != source.host:
            continue  # another host of the institution: it belongs to that host's source
        stamp = dates.get(url)
        if stamp is None:
            raise SystemExit(f"{source.id}: no fixture date for {url} in fixture_dates.toml")
        published = datetime.fromisoformat(stamp["published"]).replace(tzinfo=WARSAW)
        pages.append(
            Page(
                id=zlib.crc32(url.encode()) % 90000 + 10000,
                url=url,
                title=article["title"],
                lead=article["paragraphs"][0],
                paragraphs=list(article["paragraphs"]),
                attachments=list(article.get("attachments") or []),
                categories=list(article.get("categories") or []) or ["Aktualności"],
                published=published,
                modified=published,
            )
        )
    pages.sort(key=lambda p: p.published, reverse=True)  # WordPress lists newest first
    return pages


def chunks(pages: list[Page], size: int) -> list[list[Page]]:
    return [pages[i : i + size] for i in range(0, len(pages), size)] or [[]]


def api_post(page: Page, site: SourceConfig) -> dict[str, Any]:
    def entities(text: str) -> str:
        # wptexturize output: typographic characters as numeric entities, as WordPress serves them
        return "".join(f"&#{ord(ch)};" if ch in "–—„”’…" else html.escape(ch, quote=False) for ch in text)

    return {
        "id": page.id,
        "date": page.published.replace(tzinfo=None).isoformat(),
        "date_gmt": page.published.astimezone(UTC).replace(tzinfo=None).isoformat(),
        "guid": {"rendered": f"{site.base_url}?p={page.id}"},
        "modified": page.modified.replace(tzinfo=None).isoformat(),
        "modified_gmt": page.modified.astimezone(UTC).replace(tzinfo=None).isoformat(),
        "slug": page.path.strip("/").split("/")[-1],
        "status": "publish",
        "type": "post",
        "link": page.url,
        "title": {"rendered": entities(page.title)},
        "content": {"rendered": str(page.content_html(site.base_url)) + "\n", "protected": False},
        "excerpt": {"rendered": f"<p>{entities(page.lead[:200])} [&hellip;]</p>\n", "protected": False},
        "categories": [zlib.crc32(c.encode()) % 900 + 2 for c in page.categories],
        "_embedded": {
            "wp:term": [
                [
                    {"id": zlib.crc32(c["name"].encode()) % 900 + 2, "link": f"{site.base_url}{c['slug']}/",
                     "name": c["name"], "slug": c["slug"], "taxonomy": "category"}
                    for c in page.category_objs
                ],
                [],
            ]
        },
    }  # fmt: skip


def build_wordpress(source: SourceConfig, out: Path) -> int:
    pages = load_pages(source)
    base = source.base_url
    site = {"institution": source.institution, "base": base}
    written = 0

    def write(rel: str, text: str) -> None:
        nonlocal written
        target = out / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written += 1

    write("robots.txt", "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n\n"
          f"Sitemap: {base}wp-sitemap.xml\n")  # fmt: skip
    routes: list[str] = []
    api_pages = chunks(pages, source.per_page)
    api_path = urlsplit(source.absolute(source.api_url or "/wp-json/wp/v2/posts")).path
    for number, chunk in enumerate(api_pages, start=1):
        rel = f"wp-json/wp/v2/posts-page-{number}.json"
        write(rel, json.dumps([api_post(p, source) for p in chunk], ensure_ascii=False, indent=1))
        routes.append(
            f'[[route]]\npath = "{api_path}"\nquery = "per_page={source.per_page}&page={number}&_embed=wp%3Aterm"\n'
            f'file = "{rel}"\ncontent_type = "application/json; charset=UTF-8"\n'
            f'headers = {{ "X-WP-Total" = "{len(pages)}", "X-WP-TotalPages" = "{len(api_pages)}" }}\n'
        )
    routes.append(
        f'[[route]]\npath = "{api_path}"\nquery = "per_page={source.per_page}&page={len(api_pages) + 1}'
        f'&_embed=wp%3Aterm"\nstatus = 400\ncontent_type = "application/json; charset=UTF-8"\n'
        'body = \'{"code":"rest_post_invalid_page_number","message":"Żądany numer strony jest większy '
        'niż liczba dostępnych stron.","data":{"status":400}}\'\n'
    )
    feed_path = urlsplit(source.absolute(source.feed_url or "/feed/")).path
    for number, chunk in enumerate(chunks(pages, source.per_page), start=1):
        rel = f"{feed_path.strip('/')}/index.xml" if number == 1 else f"{feed_path.strip('/')}/paged-{number}.xml"
        feed_url = source.absolute(feed_path) + ("" if number == 1 else f"?paged={number}")
        write(rel, ENV.get_template("wordpress/feed.xml").render(site=site, articles=chunk, feed_url=feed_url))
        if number > 1:
            routes.append(f'[[route]]\npath = "{feed_path}"\nquery = "paged={number}"\nfile = "{rel}"\n'
                          'content_type = "application/rss+xml; charset=UTF-8"\n')  # fmt: skip
    feed_pages = len(chunks(pages, source.per_page))
    routes.append(
        f'[[route]]\npath = "{feed_path}"\nquery = "paged={feed_pages + 1}"\nstatus = 404\n'
        'body = "<h1>Nie znaleziono</h1>"\n'
    )  # WordPress: past the last feed page
    for listing in source.listing_urls:
        listing_pages = chunks(pages, source.per_page)
        for number, chunk in enumerate(listing_pages, start=1):
            path = listing if number == 1 else f"{listing}page/{number}/"
            next_url = source.absolute(f"{listing}page/{number + 1}/") if number < len(listing_pages) else None
            prev_url = (
                None if number == 1 else source.absolute(listing if number == 2 else f"{listing}page/{number - 1}/")
            )
            write(f"{path.strip('/')}/index.html", ENV.get_template("wordpress/listing.html").render(
                site=site, articles=chunk, page=number, next_url=next_url, prev_url=prev_url))  # fmt: skip
    for index, page in enumerate(pages):
        related = [{"url": p.url, "title": p.title} for p in pages[index + 1 : index + 3]]
        context = {
            "id": page.id, "url": page.url, "title": page.title, "published_iso": page.published_iso,
            "modified_iso": page.modified_iso, "json_ld": page.json_ld(source),
            "content_html": page.content_html(base), "category_objs": page.category_objs, "related": related,
        }  # fmt: skip
        write(
            f"{page.path.strip('/')}/index.html",
            ENV.get_template("wordpress/article.html").render(site=site, a=context),
        )
    write("routes.toml", "# Generated by scrapers/mirror/build.py: what plain files cannot express.\n\n"
          + "\n".join(routes))  # fmt: skip
    return written


BUILDERS = {"wordpress": build_wordpress}


def build(source_id: str, snapshot: Path = SNAPSHOT_DIR) -> int:
    source = get_source(source_id)
    out = snapshot / source.host
    if out.exists():
        shutil.rmtree(out)
    return BUILDERS[source.platform](source, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sources", nargs="*", default=["mcps"])
    args = parser.parse_args()
    for source_id in args.sources:
        print(f"{source_id}: {build(source_id)} files")


if __name__ == "__main__":
    main()
