"""Builds the offline mirror's snapshot from real announcement texts and platform templates.

The archived copies of the real sites are text only (../shared/SITES.md), so the markup is the
platform's (a WordPress theme with its REST API and RSS feed, a Joomla or Drupal listing, a custom
CMS) wrapped around the real texts of `texts/<source_id>.json`. How a site is laid out — its
builder, templates, listing pagination, charset, and each article's publication timestamp with the
evidence it is approximated from — is declared in `sites/<source_id>.toml`. Run after a change:

    .venv/bin/python -m scrapers.mirror.build [SOURCE_ID ...]     (no ids: every source with a spec)

It rewrites `snapshot/<host>/` of each source it builds and nothing else.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import tomllib
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from aggregator.urls import canonical_url
from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.registry import SourceConfig, get_source
from scrapers.wp_rest import api_query

HERE = Path(__file__).parent
TEXTS_DIR = HERE / "texts"
SITES_DIR = HERE / "sites"
TEMPLATES_DIR = HERE / "templates"
WARSAW = ZoneInfo("Europe/Warsaw")
CATEGORY_SLUGS = {"Aktualności": "aktualnosci", "Ekonomia Społeczna": "ekonomia-spoleczna"}
MONTHS_GENITIVE = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca", "lipca", "sierpnia", "września",
                   "października", "listopada", "grudnia")  # fmt: skip
MONTHS_NOMINATIVE = ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień", "wrzesień",
                     "październik", "listopad", "grudzień")  # fmt: skip
WEEKDAYS = ("poniedziałek", "wtorek", "środa", "czwartek", "piątek", "sobota", "niedziela")
ATTACHMENT_PATHS = {
    "wordpress": "wp-content/uploads/{published:%Y/%m}/{slug}.pdf",
    "joomla": "images/dokumenty/{slug}.pdf",
    "drupal": "sites/default/files/{slug}.pdf",
}


def slugify(text: str) -> str:
    table = str.maketrans("ąćęłńóśźżĄĆĘŁŃÓŚŹŻ", "acelnoszzACELNOSZZ")
    out = "".join(ch if ch.isalnum() else "-" for ch in text.translate(table).lower())
    return "-".join(filter(None, out.split("-")))


def pl_date(value: datetime | None, style: str = "iso") -> str:
    """Dates the way Polish CMSs print them (the styles seen on the real sites, SITES.md)."""
    if value is None:
        return ""
    month = value.month - 1
    styles: dict[str, Callable[[], str]] = {
        "iso": lambda: f"{value:%Y-%m-%d}",
        "iso_minute": lambda: f"{value:%Y-%m-%d %H:%M}",
        "dmy": lambda: f"{value:%d.%m.%Y}",
        "dmy_dash": lambda: f"{value:%d-%m-%Y}",
        "genitive": lambda: f"{value.day} {MONTHS_GENITIVE[month]} {value.year}",
        "genitive_minute": lambda: f"{value.day} {MONTHS_GENITIVE[month]} {value.year} {value:%H:%M}",
        "nominative_minute": lambda: f"{value.day} {MONTHS_NOMINATIVE[month]} {value.year} {value:%H:%M}",
        "weekday": lambda: f"{WEEKDAYS[value.weekday()]}, {value.day} {MONTHS_GENITIVE[month]} {value.year}",
        "isoformat": lambda: value.isoformat(),
    }
    return styles[style]()


@dataclass
class Page:
    """One fixture article with everything the templates need."""

    id: int
    url: str
    title: str
    paragraphs: list[str]
    attachments: list[dict[str, Any]]
    categories: list[str]
    published: datetime | None  # aware, Warsaw; None where the site shows no date
    attachment_path: str
    base: str
    page_lead: str | None = None  # a lead the real page prints apart from the body, if any
    related: list[Page] = field(default_factory=list)

    @property
    def lead(self) -> str:
        return self.paragraphs[0]

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    @property
    def published_iso(self) -> str:
        return self.published.isoformat() if self.published else ""

    @property
    def published_rfc822(self) -> str:
        return format_datetime(self.published.astimezone(UTC), usegmt=True) if self.published else ""

    @property
    def category_objs(self) -> list[dict[str, str]]:
        return [{"name": c, "slug": CATEGORY_SLUGS.get(c, slugify(c))} for c in self.categories]

    def attachment_url(self, attachment: dict[str, Any]) -> str:
        if attachment.get("url"):
            return str(attachment["url"])
        slug = slugify(attachment["name"])[:60] or "zalacznik"
        return self.base + self.attachment_path.format(published=self.published or datetime(2020, 1, 1), slug=slug)

    @property
    def attachment_links(self) -> list[dict[str, str]]:
        return [{"name": a["name"], "url": self.attachment_url(a)} for a in self.attachments]

    @property
    def content_html(self) -> Markup:
        parts = ["<p>" + "<br>\n".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>"
                 for p in self.paragraphs]  # fmt: skip
        if self.attachments:
            items = "".join(
                f'<li><a href="{html.escape(a["url"])}">{html.escape(a["name"], quote=False)}</a></li>'
                for a in self.attachment_links
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
                    "dateModified": self.published_iso,
                    "mainEntityOfPage": {"@id": self.url},
                    "publisher": {"@type": "Organization", "name": site.institution},
                    "inLanguage": "pl-PL",
                },
                {"@type": "WebPage", "@id": self.url, "url": self.url, "name": f"{self.title} – {site.institution}"},
            ],
        }
        return Markup(json.dumps(graph, ensure_ascii=False).replace("</", "<\\/"))


# The keys of `sites/<id>.toml` (docs/adding-a-source.md, section 4): anything else is a typo that
# the builders would ignore without a word (`page_ulr`, or `templates` believed to work where it did not).
SPEC_KEYS = frozenset({
    "builder", "templates", "templates_from", "listing", "page_url", "per_page", "api", "feed", "charset", "robots",
    "order", "attachment_path", "feed_limit", "feed_title", "site", "articles",
})  # fmt: skip
ARTICLE_KEYS = frozenset({"published", "evidence"})


def load_spec(source_id: str) -> dict[str, Any]:
    """`sites/<source_id>.toml`, its keys checked: the build stops on one it does not know."""
    with (SITES_DIR / f"{source_id}.toml").open("rb") as handle:
        spec = tomllib.load(handle)
    where = f"sites/{source_id}.toml"
    if unknown := sorted(set(spec) - SPEC_KEYS):
        raise SystemExit(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(SPEC_KEYS))})")
    if spec.get("builder") not in BUILDERS:
        raise SystemExit(f"{where}: builder must be one of {', '.join(BUILDERS)}, not {spec.get('builder')!r}")
    for url, entry in spec.get("articles", {}).items():
        if unknown := sorted(set(entry) - ARTICLE_KEYS):
            raise SystemExit(
                f'{where}: [articles."{url}"] has an unknown key {unknown[0]!r} (known: published, evidence)'
            )
    if (other := spec.get("templates_from")) is not None and not (TEMPLATES_DIR / "sites" / str(other)).is_dir():
        raise SystemExit(f"{where}: templates_from = {other!r}, but there is no templates/sites/{other}/")
    return spec


def site_url(url: str, source: SourceConfig) -> str:
    """An article URL on the source's own host and scheme (http/https, www. or not, as registered)."""
    parts = urlsplit(canonical_url(url))
    base = urlsplit(source.base_url)
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, ""))


def same_site(url: str, source: SourceConfig) -> bool:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return host == source.host.removeprefix("www.")


def load_pages(source: SourceConfig, spec: dict[str, Any]) -> list[Page]:
    texts = json.loads((TEXTS_DIR / f"{source.id}.json").read_text(encoding="utf-8"))
    dates: dict[str, dict[str, str]] = spec.get("articles", {})
    attachment_path = spec.get("attachment_path") or ATTACHMENT_PATHS.get(spec.get("templates", spec["builder"]), "")
    pages = []
    for article in texts["articles"]:
        if not same_site(article["url"], source) or article.get("skip_in_mirror"):
            continue  # another host of the institution: it belongs to that host's source
        url = site_url(article["url"], source)
        if url not in dates:
            raise SystemExit(f'{source.id}: no [articles."{url}"] entry in sites/{source.id}.toml')
        stamp = dates[url].get("published")
        published = datetime.fromisoformat(stamp).replace(tzinfo=WARSAW) if stamp else None
        post_id = parse_qs(urlsplit(url).query).get("p", [""])[0]  # WordPress plain permalinks: the real id
        pages.append(
            Page(
                id=int(post_id) if post_id.isdigit() else zlib.crc32(url.encode()) % 90000 + 10000,
                url=url,
                title=article["title"],
                paragraphs=list(article["paragraphs"]),
                attachments=list(article.get("attachments") or []),
                categories=list(article.get("categories") or []) or ["Aktualności"],
                published=published,
                attachment_path=attachment_path or "files/{slug}.pdf",
                base=source.base_url,
                page_lead=article.get("lead"),
            )
        )
    if stale := sorted(set(dates) - {page.url for page in pages}):
        # a date for a page the mirror does not serve: a URL mistyped, or a text moved or skipped
        raise SystemExit(f'{source.id}: [articles."{stale[0]}"] in sites/{source.id}.toml is no served article of '
                         f"texts/{source.id}.json (its URL on {source.host}, not skip_in_mirror)")  # fmt: skip
    order = spec.get("order", "newest")
    if order == "newest":
        pages.sort(key=lambda p: p.published or datetime(1970, 1, 1, tzinfo=UTC), reverse=True)
    for index, page in enumerate(pages):
        page.related = pages[index + 1 : index + 3]
    return pages


def chunks(pages: list[Page], size: int) -> list[list[Page]]:
    return [pages[i : i + size] for i in range(0, len(pages), size)] or [[]]


class SnapshotWriter:
    """Writes files under snapshot/<host>/ and collects the routes that files cannot express."""

    def __init__(self, out: Path, charset: str = "utf-8") -> None:
        self.out = out
        self.charset = charset
        self.routes: list[str] = []
        self.count = 0

    def write(self, rel: str, text: str, charset: str | None = None) -> None:
        target = self.out / rel.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(text.encode(charset or self.charset, errors="xmlcharrefreplace"))
        self.count += 1

    def page(self, path: str, query: str, text: str, content_type: str = "text/html") -> None:
        """A page at PATH?QUERY: a plain file where the path says what it is (`…/` or `….html`),
        else a file under `_routed/` served by a route (query strings, extensionless paths, charsets)."""
        plain = unquote(path).strip("/")
        if not query and (path.endswith("/") or not plain):
            rel = f"{plain}/index.html".lstrip("/")
        elif not query and plain.endswith(".html"):
            rel = plain
        else:
            name = slugify(f"{plain} {query}")[:150] or "index"
            rel = f"_routed/{name}-{zlib.crc32((path + '?' + query).encode()):08x}.html"
        self.write(rel, text)
        if rel.startswith("_routed/") or self.charset.lower() not in ("utf-8", "utf8"):
            self.route(path=path, query=query or None, file=rel, content_type=f"{content_type}; charset={self.charset}")

    def route(self, **fields: Any) -> None:
        lines = ["[[route]]"]
        for key, value in fields.items():
            if value is None:
                continue
            if isinstance(value, dict):
                inner = ", ".join(f"{json.dumps(k)} = {json.dumps(v, ensure_ascii=False)}" for k, v in value.items())
                lines.append(f"{key} = {{ {inner} }}")
            else:
                lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
        self.routes.append("\n".join(lines) + "\n")

    def finish(self) -> int:
        header = "# Generated by scrapers/mirror/build.py: what plain files cannot express.\n\n"
        (self.out / "routes.toml").write_text(header + "\n".join(self.routes), encoding="utf-8")
        return self.count + 1


def environment(source_id: str, spec: dict[str, Any] | None = None) -> Environment:
    """Templates are looked up in `templates/sites/<source_id>/`, then in the folder of the source
    the spec's `templates_from` names (a sibling host running the same theme: its templates serve
    both, overridden file by file, with no copy), then in the generic `templates/`. The order holds
    for the templates' own `extends` and `import`s too, so a sibling's `wordpress/article.html`
    extending `wordpress/base.html` gets the sibling's base, not the generic one."""
    folders = [TEMPLATES_DIR / "sites" / source_id]
    if spec and spec.get("templates_from"):
        folders.append(TEMPLATES_DIR / "sites" / str(spec["templates_from"]))
    env = Environment(
        loader=ChoiceLoader([*(FileSystemLoader(folder) for folder in folders), FileSystemLoader(TEMPLATES_DIR)]),
        autoescape=select_autoescape(["html", "xml"]),
        keep_trailing_newline=True,
    )
    env.filters["pl_date"] = pl_date
    return env


def robots(writer: SnapshotWriter, source: SourceConfig, spec: dict[str, Any]) -> None:
    writer.write("robots.txt", spec.get("robots", "User-agent: *\nDisallow: /administrator/\n"), "utf-8")


def api_post(page: Page, site: SourceConfig) -> dict[str, Any]:
    def entities(text: str) -> str:
        # wptexturize output: typographic characters as numeric entities, as WordPress serves them
        return "".join(f"&#{ord(ch)};" if ch in "–—„”’…" else html.escape(ch, quote=False) for ch in text)

    assert page.published is not None, f"{page.url}: a WordPress post always has a date"
    local = page.published.replace(tzinfo=None).isoformat()
    gmt = page.published.astimezone(UTC).replace(tzinfo=None).isoformat()
    return {
        "id": page.id,
        "date": local,
        "date_gmt": gmt,
        "guid": {"rendered": f"{site.base_url}?p={page.id}"},
        "modified": local,
        "modified_gmt": gmt,
        "slug": page.path.strip("/").split("/")[-1],
        "status": "publish",
        "type": "post",
        "link": page.url,
        "title": {"rendered": entities(page.title)},
        "content": {"rendered": str(page.content_html) + "\n", "protected": False},
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


def build_wordpress(source: SourceConfig, spec: dict[str, Any], out: Path) -> int:
    """REST API pages, RSS feed pages, category listings and article pages of a WordPress site."""
    pages = load_pages(source, spec)
    env = environment(source.id, spec)
    writer = SnapshotWriter(out)
    site = {"institution": source.institution, "base": source.base_url, **spec.get("site", {})}
    robots(writer, source, {"robots": "User-agent: *\nDisallow: /wp-admin/\nAllow: /wp-admin/admin-ajax.php\n"})
    api_path = urlsplit(source.absolute(source.api_url or "/wp-json/wp/v2/posts")).path
    api_pages = chunks(pages, source.per_page)
    if spec.get("api", True):
        for number, chunk in enumerate(api_pages, start=1):
            rel = f"wp-json/wp/v2/posts-page-{number}.json"
            writer.write(rel, json.dumps([api_post(p, source) for p in chunk], ensure_ascii=False, indent=1))
            writer.route(
                path=api_path, query=api_query(source.per_page, number), file=rel,
                content_type="application/json; charset=UTF-8",
                headers={"X-WP-Total": str(len(pages)), "X-WP-TotalPages": str(len(api_pages))},
            )  # fmt: skip
        writer.route(
            path=api_path, query=api_query(source.per_page, len(api_pages) + 1),
            status=400, content_type="application/json; charset=UTF-8",
            body='{"code":"rest_post_invalid_page_number","message":"Żądany numer strony jest większy niż liczba '
                 'dostępnych stron.","data":{"status":400}}',
        )  # fmt: skip
    else:  # as with the "Disable REST API" plugins common on Polish public WordPress sites
        writer.route(
            path=api_path, status=401, content_type="application/json; charset=UTF-8",
            body='{"code":"rest_cannot_access","message":"Only authenticated users can access the REST API.",'
                 '"data":{"status":401}}',
        )  # fmt: skip
    feed_path = urlsplit(source.absolute(source.feed_url or "/feed/")).path
    if spec.get("feed", True):
        feed_pages = chunks(pages, source.per_page)
        for number, chunk in enumerate(feed_pages, start=1):
            rel = f"{feed_path.strip('/')}/index.xml" if number == 1 else f"{feed_path.strip('/')}/paged-{number}.xml"
            feed_url = source.absolute(feed_path) + ("" if number == 1 else f"?paged={number}")
            feed = env.get_template("wordpress/feed.xml").render(site=site, articles=chunk, feed_url=feed_url)
            writer.write(rel, feed)
            if number > 1:
                writer.route(path=feed_path, query=f"paged={number}", file=rel,
                             content_type="application/rss+xml; charset=UTF-8")  # fmt: skip
        writer.route(path=feed_path, query=f"paged={len(feed_pages) + 1}", status=404,
                     body="<h1>Nie znaleziono</h1>")  # fmt: skip
    else:
        writer.route(path=feed_path, status=404, body="<h1>Nie znaleziono</h1>")
    page_spec = {"page_url": spec.get("page_url", "{listing}page/{n}/")}  # pretty permalinks by default
    for listing in source.listing_urls:
        parts = urlsplit(source.absolute(listing))
        listing_url = parts.path + (f"?{parts.query}" if parts.query else "")
        listing_pages = chunks(pages, source.per_page)
        for number, chunk in enumerate(listing_pages, start=1):
            url = urlsplit(listing_page_url(page_spec, listing_url, number, source.per_page))
            next_page = listing_page_url(page_spec, listing_url, number + 1, source.per_page)
            next_url = source.absolute(next_page) if number < len(listing_pages) else None
            prev_page = listing_page_url(page_spec, listing_url, number - 1, source.per_page) if number > 1 else None
            prev_url = source.absolute(prev_page) if prev_page else None
            writer.page(url.path, url.query, env.get_template("wordpress/listing.html").render(
                site=site, articles=chunk, page=number, next_url=next_url, prev_url=prev_url))  # fmt: skip
    for page in pages:
        writer.page(page.path, page.query, env.get_template("wordpress/article.html").render(
            site=site, a=page, json_ld=page.json_ld(source)))  # fmt: skip
    return writer.finish()


def listing_page_url(spec: dict[str, Any], listing: str, number: int, per_page: int) -> str:
    """The URL of listing page NUMBER (1-based) by the site's pagination scheme."""
    if number == 1:
        return listing
    pattern = spec.get("page_url", "{listing}?page={n0}")
    return pattern.format(listing=listing, n=number, n0=number - 1, offset=(number - 1) * per_page)


def build_html(source: SourceConfig, spec: dict[str, Any], out: Path) -> int:
    """Listing pages (any pagination scheme) and article pages of a Joomla, Drupal or custom-CMS site."""
    pages = load_pages(source, spec)
    templates = spec.get("templates", source.platform)
    env = environment(source.id, spec)
    writer = SnapshotWriter(out, spec.get("charset", "utf-8"))
    site = {"institution": source.institution, "base": source.base_url, "charset": writer.charset,
            **spec.get("site", {})}  # fmt: skip
    robots(writer, source, spec)
    per_page = int(spec.get("per_page", source.per_page))
    listing = spec.get("listing") or urlsplit(source.absolute(source.listing_urls[0])).path
    listing_pages = chunks(pages, per_page)
    for number, chunk in enumerate(listing_pages, start=1):
        url = listing_page_url(spec, listing, number, per_page)
        next_url = source.absolute(listing_page_url(spec, listing, number + 1, per_page))
        prev_url = source.absolute(listing_page_url(spec, listing, number - 1, per_page)) if number > 1 else None
        parts = urlsplit(url)
        writer.page(parts.path, parts.query, env.get_template(f"{templates}/listing.html").render(
            site=site, articles=chunk, page=number, pages=len(listing_pages),
            next_url=next_url if number < len(listing_pages) else None, prev_url=prev_url))  # fmt: skip
    for page in pages:
        writer.page(page.path, page.query, env.get_template(f"{templates}/article.html").render(
            site=site, a=page, json_ld=page.json_ld(source)))  # fmt: skip
    if source.platform == "joomla" and source.feed_url:
        joomla_feed(source, spec, pages, env, writer, site, listing)
    return writer.finish()


def joomla_feed(source: SourceConfig, spec: dict[str, Any], pages: list[Page], env: Environment,
                writer: SnapshotWriter, site: dict[str, Any], listing: str) -> None:  # fmt: skip
    """The category's RSS feed (Joomla core and K2: `?format=feed&type=rss`, UTF-8 whatever the
    site's charset): its newest dated items, as many as the site's list limit (`feed_limit`)."""
    feed_url = source.absolute(source.feed_url or "")
    feed = urlsplit(feed_url)
    dated = sorted((p for p in pages if p.published), key=lambda p: p.published or datetime.min, reverse=True)
    text = env.get_template("joomla/feed.xml").render(
        site=site, articles=dated[: int(spec.get("feed_limit", 10))], title=spec.get("feed_title", "Aktualności"),
        listing_url=source.absolute(listing), feed_url=feed_url)  # fmt: skip
    rel = f"_routed/{slugify(feed.path + ' ' + feed.query)[:150]}-feed.xml"
    writer.write(rel, text, charset="utf-8")
    writer.route(path=feed.path, query=feed.query or None, file=rel, content_type="application/rss+xml; charset=utf-8")


BUILDERS: dict[str, Callable[[SourceConfig, dict[str, Any], Path], int]] = {
    "wordpress": build_wordpress,
    "html": build_html,
}


def build(source_id: str, snapshot: Path = SNAPSHOT_DIR) -> int:
    source = get_source(source_id)
    spec = load_spec(source_id)
    out = snapshot / source.host
    if out.exists():
        shutil.rmtree(out)
    return BUILDERS[spec["builder"]](source, spec, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("sources", nargs="*", help="source ids (default: every source with a sites/<id>.toml)")
    args = parser.parse_args()
    for source_id in args.sources or sorted(p.stem for p in SITES_DIR.glob("*.toml")):
        print(f"{source_id}: {build(source_id)} files")


if __name__ == "__main__":
    main()
