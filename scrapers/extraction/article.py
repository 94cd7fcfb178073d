"""Article extraction: structured data first, per-site selectors second, visible text last.

`ArticleParser` is the generic parser every source uses; a site whose markup needs more gets a
small subclass (named in the registry) that overrides one step, never a copy of the whole.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

from scrapers.extraction.attachments import file_type_of, find_attachments
from scrapers.extraction.boilerplate import strip_boilerplate
from scrapers.extraction.images import blank_empty_alts, each_once, find_images
from scrapers.extraction.sanitize import absolutise, sanitize_html
from scrapers.extraction.select import page_index, precompile, select, select_one
from scrapers.extraction.soft_errors import soft_error
from scrapers.extraction.soup import contents_html, parsed_elements, parsed_html
from scrapers.extraction.text import clean_line, lead_of, paragraphs, soup_to_text
from scrapers.extraction.timestamps import iso_granularity, parse_iso
from scrapers.items import AttachmentItem, ImageItem
from scrapers.registry import Selectors

log = logging.getLogger(__name__)

DEFAULT_BODY_SELECTORS = (
    "div.entry-content", "article .entry-content", "div.post-content", "div[itemprop=articleBody]",
    "div.item-page", "div.field--name-body", "article", "main", "#content",
)  # fmt: skip
#: WordPress's featured image (the_post_thumbnail's class, and the themes' figure around it): the
#: picture a post is shown with, printed above its text and outside the content block.
DEFAULT_IMAGE_SELECTORS = "img.wp-post-image, figure.post-thumbnail img"
#: What holds another page's pictures, never this article's: menus, sidebars, widgets, teasers of
#: related posts (a default image selector found there is skipped). Narrower than the body's
#: furniture (boilerplate.REMOVE_SELECTORS): themes print the featured image inside the post's
#: <header class="entry-header"> (Twenty Twenty-One), and some CMSs wrap the whole page in a <form>.
_NOT_THE_ARTICLES = frozenset({"nav", "aside", "footer"})
_NOT_THE_ARTICLES_CLASSES = frozenset({"sidebar", "widget", "related-posts", "post-navigation"})
#: Classes of what lists other pages (a sidebar's "latest news", a widget, related posts): a date
#: printed there is another page's. Also class words starting "sidebar"/"widget-"/"widget_" or
#: holding "-sidebar" ("widget-area", "widget_recent_entries", Drupal's "region-sidebar-second").
_OTHER_PAGES_CLASSES = frozenset({"sidebar", "widget", "related-posts", "post-navigation", "recent-posts"})
#: A timestamp, where it came from (json-ld, meta, time, label) and its precision (day, minute, second).
Stamp = tuple[datetime | None, str | None, str | None]
TITLE_SEPARATORS = (" – ", " | ", " « ", " » ", " - ", " :: ")
#: What a CMS titles its home page or a listing with: never an announcement's title.
GENERIC_PAGE_NAMES = frozenset({"strona główna", "strona startowa", "start", "home", "aktualności", "wiadomości",
                                "ogłoszenia", "news"})  # fmt: skip


def _folded(text: str) -> str:
    """`text` compared as a name: case, spacing and the separators' punctuation around it aside."""
    return " ".join(text.casefold().split()).strip(" -–—|»«:·")


def is_site_name(text: str, site_names: tuple[str, ...] = ()) -> bool:
    """Whether `text` only names the site, not a page: one of the CMS's generic page names
    ("Strona główna"), or equal to or part of one of `site_names` (the institution, the site's
    name, its home page's title: "ROPS w Rzeszowie" is part of "ROPS w Rzeszowie – Regionalny …")."""
    folded = _folded(text)
    if not folded or folded in GENERIC_PAGE_NAMES:
        return True
    return any(folded in name for name in (_folded(n) for n in site_names) if name)


def strip_site_name(
    title: str, site_names: tuple[str, ...] = (), *, blind: bool = True, link_text: str | None = None
) -> str | None:
    """`title` without the site's name around it ("Nabór wniosków – ROPS Rzeszów", "ROPS » Nabór
    wniosków"), or None when nothing else is left ("Strona główna", the institution's name alone).

    A part is the site's name when `is_site_name` says so. When no part is, `link_text` (the text
    of the listing link or the feed item's title that led to the page) decides: a form of the title
    that is the link text (`same_title`: case, spacing and quotes aside), or that the link text
    gives in full (`full_form`: a cut "Nabór wniosków…"), is the title; else a trailing part goes
    only when the link text does not hold it. Without link text, `blind` drops the last part all the
    same (how most CMSs print `<title>`: the page, then the site), unless that part is a number, a
    year or an edition ("Konkurs - edycja 2024", "Poradnik - cz. 2"): no site is named like that."""
    for separator in TITLE_SEPARATORS:
        if separator not in title:
            continue
        head, tail = title.rsplit(separator, 1)
        if is_site_name(tail, site_names):
            return strip_site_name(head.strip(), site_names, blind=False, link_text=link_text)
        first, rest = title.split(separator, 1)
        if is_site_name(first, site_names):
            return strip_site_name(rest.strip(), site_names, blind=False, link_text=link_text)
    if is_site_name(title, site_names):
        return None
    if link_text and not is_site_name(link_text, site_names):
        return _as_link_says(title, link_text, blind=blind)
    if blind:
        for separator in TITLE_SEPARATORS:
            if separator in title:
                head, tail = title.rsplit(separator, 1)
                return title if _NOT_A_SITE.match(tail.strip()) else head.strip() or None
    return title


#: A title's last part that names no site: a number, a year, an edition, a part, an issue
#: ("2024", "2024/2025", "edycja 2024", "II edycja", "cz. 2", "część II", "nr 3", "etap I").
_NOT_A_SITE = re.compile(
    r"^(?:\d+(?:[./-]\d+)*\.?(?:\s*r\.?)?|[IVXLC]+\.?"
    r"|(?:edycja|edycji|cz\.|część|części|nr|numer|etap|tura|odc\.|odcinek|vol\.|rok)\s*\S+"
    r"|\S+\s+(?:edycja|edycji|część|etap|tura))$",
    re.IGNORECASE,
)
#: Quotation marks a listing and a `<title>` may print differently („…”, "…", “…”).
_QUOTES = str.maketrans("", "", "„”“‟\"‚‘’'")


def same_title(a: str, b: str) -> bool:
    """Whether `a` and `b` are one title: case, spacing, quotation marks and the kind of dash aside."""
    return _title_form(a) == _title_form(b)


def _title_form(text: str) -> str:
    return " ".join(text.translate(_QUOTES).replace("–", "-").replace("—", "-").casefold().split())


def full_form(short: str, link_text: str) -> bool:
    """Whether `link_text` is `short` in full: `short` cut with an ellipsis ("Nabór wniosków o…"),
    or its first words ("Nabór wniosków" of "Nabór wniosków o dofinansowanie")."""
    kept, whole = _title_form(short), _title_form(link_text)
    cut = kept.rstrip(".…").rstrip()
    if kept != cut:  # an ellipsis: whatever the word it cut
        return bool(cut) and whole.startswith(cut) and whole != cut
    return bool(kept) and whole.startswith(kept + " ")


def title_from_link(link_text: str | None, site_names: tuple[str, ...] = ()) -> str | None:
    """The title of a page that states none of its own: the text of what led to it (the listing
    link, the feed item), unless that only names the site."""
    text = clean_line(link_text or "")
    return text if text and not is_site_name(text, site_names) else None


def _as_link_says(title: str, link_text: str, *, blind: bool) -> str:
    """`title` (its site's names stripped) as the link text that led to the page decides: its
    longest form that is the link text, or that the link text gives in full (then the link text);
    else, for a `blind` title, without the trailing parts the link text does not hold."""
    forms = [title]
    for separator in TITLE_SEPARATORS:
        rest = title
        while separator in rest:
            rest = rest.rsplit(separator, 1)[0].strip()
            forms.append(rest)
    for form in sorted(set(forms), key=len, reverse=True):
        if same_title(form, link_text):
            return form
        if full_form(form, link_text):
            return link_text
    if not blind:
        return title
    held = _title_form(link_text)
    for separator in TITLE_SEPARATORS:
        if separator in title:
            head, tail = title.rsplit(separator, 1)
            if _title_form(tail) not in held and head.strip():
                return _as_link_says(head.strip(), link_text, blind=blind)
    return title


@dataclass
class ParsedArticle:
    url: str
    title: str | None
    body_html: str
    body_text: str
    lead: str | None
    categories: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    published_from: str | None = None
    published_granularity: str | None = None
    modified_at: datetime | None = None
    modified_from: str | None = None
    canonical_url: str | None = None
    # the CMS's own id of the page: <link rel="shortlink"> (WordPress `?p=123`, Drupal `/node/123`)
    # and WordPress's `postid-123` body class; they identify the page whatever its permalink
    shortlink: str | None = None
    post_id: str | None = None
    attachments: list[AttachmentItem] = field(default_factory=list)
    images: list[ImageItem] = field(default_factory=list)
    # the title is the text of what led to the page (`title_from_link`): the page states none
    titled_by_link: bool = False
    # what makes the page unfit beyond a missing title or text: the site's own body selector
    # finding nothing (a layout change: the generic fallbacks would find some text, but not
    # necessarily the announcement's), a page cut off before its end
    defects: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Why this page cannot become an announcement (a layout change, a broken page, an error
        page served with HTTP 200 — a "soft 404" — which must never replace a stored text)."""
        missing = list(self.defects)
        if not self.title:
            missing.append("no title")
        if not (self.body_text.strip() or self.attachments or "<img" in self.body_html):
            # a poster or a file alone is content, as in a REST post (scrapers/spiders/wordpress.py)
            missing.append("no body")
        if notice := soft_error(self.title, self.body_text):  # scrapers/extraction/soft_errors.py
            missing.append(f"an error page served as HTTP 200 (soft 404): {notice!r}")
        return missing


@dataclass(frozen=True)
class Body:
    html: str
    text: str
    attachments: list[AttachmentItem]
    images: list[ImageItem] = field(default_factory=list)


def extract_body(fragment: Tag, base_url: str, remove: tuple[str, ...] = ()) -> Body:
    """Clean text, sanitised HTML and attachments of a body element (an HTML page or API content)."""
    strip_boilerplate(fragment, remove)
    absolutise(fragment, base_url)
    attachments = find_attachments(fragment, base_url)
    images = find_images([fragment], base_url)
    blank_empty_alts(fragment)  # after `find_images`, which judges the alt texts itself
    text = soup_to_text(fragment)
    html = sanitize_html(contents_html(fragment))
    return Body(html=html, text=text, attachments=attachments, images=images)


def body_from_html_fragment(html: str, base_url: str) -> Body:
    with parsed_html(html) as soup:
        # soup.body, from the elements as parsed (soup.body is a find(), a walk over the whole tree)
        elements = parsed_elements(soup)
        body = soup.body if elements is None else next((e for e in elements if e.name == "body"), None)
        return extract_body(body or soup, base_url)


# What `warm_up` parses: a label date, a body with a heading and a linked file.
_WARM_UP_PAGE = (
    '<html lang="pl"><head><meta charset="utf-8"><title>Ogłoszenie – ROPS</title></head><body>'
    '<h1 class="entry-title">Ogłoszenie</h1><p>Data dodania: 12 marca 2024</p><div class="entry-content">'
    "<h2>Nabór</h2><p>Regionalny Ośrodek Polityki Społecznej zaprasza do składania ofert.</p>"
    '<p><a href="/wp-content/uploads/2024/03/regulamin.pdf">Regulamin (PDF, 120 KB)</a></p></div></body></html>'
)


def warm_up() -> None:
    """Pay the first-use costs of extraction now (soupsieve's own patterns, compiled with the
    first selector that needs each: 0.15 s of a worker's first page), in a worker process that
    starts while the crawl process is still starting."""
    precompile((*DEFAULT_BODY_SELECTORS, DEFAULT_IMAGE_SELECTORS))
    ArticleParser().parse(_WARM_UP_PAGE, "https://rops.invalid/ogloszenie/")


def _opens_with(text: str, lead: str) -> bool:
    """Whether ``text``'s first paragraph is ``lead`` (whitespace aside), or, for a teaser cut with
    an ellipsis, starts with what the teaser keeps."""
    first = " ".join(paragraphs(text)[0].split()) if text.strip() else ""
    words = " ".join(lead.split())
    if words.endswith(("…", "...")):
        kept = words.rstrip(".…").rstrip()
        return bool(kept) and first.startswith(kept)
    return first == words


# How far from the end of a page its closing tags may be (trackers, caching plugins' comments).
_TAIL = 4096


_CLOSED = re.compile(r"</(?:body|html)\b", re.IGNORECASE)
# What PHP prints where it gave up (and ends with "<br />"): the page stops there.
_PHP_ERROR = re.compile(r"<b>(?:Fatal error|Parse error)</b>:", re.IGNORECASE)


def cut_off(html: str) -> list[str]:
    """A page that stops in the middle: a server that gave up mid-page (a PHP error, a full disk)
    with HTTP 200 and a matching length, which no transfer check catches; lxml parses what is
    there without complaint, and the text would lose its end. HTML lets a page leave out
    </body></html>, so their absence alone says nothing: only with the page's last characters
    not closing a tag ("…w dniu 12 mar", "</p"), or with PHP's error where it gave up, is it cut off."""
    if _CLOSED.search(html, max(0, len(html) - _TAIL)) or _CLOSED.search(html):
        return []
    if html.rstrip().endswith(">") and not _PHP_ERROR.search(html, max(0, len(html) - _TAIL)):
        return []
    return ["the page stops in the middle, without </body></html> (cut off by the server?)"]


def _drop_opening_title(body: Tag, title: str) -> None:
    """Remove the element that opens ``body`` when it holds the title and nothing else.

    Themes repeat the H1 inside the content block, and on Joomla sites the heading is typed at the
    top of the text (rops-olsztyn, rops-torun): taken out of the text alone, it stayed in the HTML,
    and the story page showed the title twice.
    """
    opening = next((s for s in body.descendants if isinstance(s, NavigableString) and s.strip()), None)
    if opening is None or isinstance(opening, Comment):
        return
    node, whole = opening.parent, None
    while isinstance(node, Tag) and node is not body and clean_line(node.get_text(" ")) == title:
        whole, node = node, node.parent
    if whole is not None and not _holds_a_file(whole):
        whole.decompose()


def _holds_a_file(element: Tag) -> bool:
    """A picture, or a link to a file: a title that is the name of the file it links to (a linked
    title of the page itself, as Joomla prints them, is only the title)."""
    if element.find("img") is not None:
        return True
    return any(file_type_of(str(a.get("href") or "")) for a in element.find_all("a"))


class ArticleParser:
    """Generic article page parser; subclasses override single steps for odd sites."""

    def __init__(self, selectors: Selectors | None = None, site_names: tuple[str, ...] = ()) -> None:
        self.selectors = selectors or Selectors()
        # what names the site, never a page of it (the institution, the site's name, its home
        # page's title): a title that is only this is no title (`title`); the spider adds the
        # names it reads on the site as it crawls
        self.site_names = site_names

    def parse(self, html: str, url: str, link_text: str | None = None) -> ParsedArticle:
        """The article on page `url`; `link_text` is what led to it, if anything did (the listing
        link's text, the feed item's title): it decides how much of a stated `<title>` is the title,
        and titles a page that states none (`title`). The spider passes the text its request carried;
        `reparse` the text archived with the raw page (aggregator/reparse.py)."""
        with parsed_html(html) as soup:  # taken apart after: only plain values leave it
            structured = self.json_ld(soup)
            published, published_from, published_granularity = self.published(soup, structured)
            modified, modified_from, _ = self.modified(soup, structured)
            title, titled_by_link = self.title(soup, structured, link_text), False
            if title is None and (title := title_from_link(link_text, self.site_names)):
                titled_by_link = True  # the page states no title of its own
            categories = self.categories(soup)
            canonical = self.canonical(soup)
            shortlink, post_id = self.shortlink(soup), self.post_id(soup)
            shown_with = self.featured_images(soup, url)  # read before the body is stripped
            body_element = self.body_element(soup)
            if body_element is None:
                body = Body(html="", text="", attachments=[])
            else:
                if title:
                    _drop_opening_title(body_element, title)
                body = extract_body(body_element, url, self.selectors.remove)
                if title and (body.text == title or body.text.startswith(title + "\n")):
                    # the title as the text's first line in an element that holds more than it
                    body = replace(body, text=body.text[len(title) :].lstrip())
                body = self.with_lead(soup, body_element, body, url)
            return ParsedArticle(
                url=url,
                title=title,
                body_html=body.html,
                body_text=body.text,
                lead=lead_of(body.text),
                categories=categories,
                published_at=published,
                published_from=published_from,
                published_granularity=published_granularity,
                modified_at=modified,
                modified_from=modified_from,
                canonical_url=canonical,
                shortlink=shortlink,
                post_id=post_id,
                attachments=body.attachments,
                images=each_once((*shown_with, *body.images)),
                titled_by_link=titled_by_link,
                defects=[*self.layout_changes(soup), *cut_off(html)],
            )

    # -- steps ---------------------------------------------------------------------------------

    @staticmethod
    def json_ld(soup: BeautifulSoup) -> dict[str, Any]:
        """The first Article-like JSON-LD object (Yoast puts it inside an @graph)."""
        for script in _tags(soup, "script"):
            if script.get("type") != "application/ld+json":
                continue
            try:
                data = json.loads(script.string or "")
            except (json.JSONDecodeError, TypeError):
                continue
            candidates = data.get("@graph", [data]) if isinstance(data, dict) else data
            for candidate in candidates if isinstance(candidates, list) else []:
                if not isinstance(candidate, dict):
                    continue
                kind = candidate.get("@type")
                kinds = kind if isinstance(kind, list) else [kind]
                article_like = any(k in ("Article", "NewsArticle", "BlogPosting", "WebPage") for k in kinds)
                if article_like and ("datePublished" in candidate or "headline" in candidate):
                    return candidate
        return {}

    def title(self, soup: BeautifulSoup, structured: dict[str, Any], link_text: str | None = None) -> str | None:
        """The page's heading; without one, what the page says its title is: the JSON-LD headline,
        og:title, then `<title>` — each without the site's name around it, and none that is only
        the site's name ("Strona główna", "Regionalny Ośrodek Polityki Społecznej w …": a CMS's
        `<title>` on many pages). How much of a `<title>` is the page's is for `link_text` to say,
        when there is one (`strip_site_name`). None when the page states nothing: `parse` takes the
        link text itself then (`title_from_link`), and without one the page is a lost title's alarm."""
        for element in self._title_elements(soup):
            text = clean_line(element.get_text(" ")) if element is not None else ""
            if text and not is_site_name(text, self.site_names):  # a logo's <h1> names the site
                return text
        stated = []
        if structured.get("headline"):  # a headline is the article's own: only a known site name goes
            stated.append((clean_line(str(structured["headline"])), False))
        meta = _first(soup, "meta", property="og:title")
        if meta is not None and meta.get("content"):
            stated.append((clean_line(str(meta["content"])), True))
        if soup.title and soup.title.string:
            stated.append((clean_line(soup.title.string), True))
        for text, blind in stated:
            if text and (title := strip_site_name(text, self.site_names, blind=blind, link_text=link_text)):
                return title
        return None

    def _title_elements(self, soup: BeautifulSoup) -> Iterator[Tag | None]:
        """The site's title selector; for a site without one, "h1.entry-title", "article h1" and
        "h1", each looked for only when the one before gave no text.

        A site's selector that finds no text is a changed or broken page, and the guesses would
        find another heading: the site's name in its logo's <h1>, stored as the title in place of
        the announcement's. The page's own statements of its title (JSON-LD, og:title, <title>)
        are read then (`title`)."""
        if self.selectors.title:
            yield select_one(soup, self.selectors.title)
            return
        headings = _tags(soup, "h1")
        yield next((h for h in headings if "entry-title" in _words(h.get("class"))), None)
        yield next((h for h in headings if any(p.name == "article" for p in h.parents)), None)
        yield headings[0] if headings else None

    def with_lead(self, soup: BeautifulSoup, body_element: Tag, body: Body, url: str) -> Body:
        """``body`` opened by the page's separate lead element, when the site has one.

        Only a lead outside the body element counts (one inside is already in the text).
        """
        if not self.selectors.lead:
            return body
        element = select_one(soup, self.selectors.lead)
        if (
            element is None
            or any(p is body_element for p in element.parents)
            or any(p is element for p in body_element.parents)
        ):
            return body
        lead = extract_body(element, url, self.selectors.remove)
        if not lead.text:
            return body
        if _opens_with(body.text, lead.text):  # the text repeats it as its first paragraph (rops.krakow.pl)
            # its text once; a picture or a file only the lead element holds is kept
            listed = {a.url for a in body.attachments}
            return replace(
                body,
                attachments=[a for a in lead.attachments if a.url not in listed] + body.attachments,
                images=each_once((*lead.images, *body.images)),
            )
        return Body(
            html=lead.html + "\n" + body.html,
            text=lead.text + "\n\n" + body.text if body.text else lead.text,
            attachments=lead.attachments + body.attachments,
            images=lead.images + body.images,
        )

    def featured_images(self, soup: BeautifulSoup, url: str) -> list[ImageItem]:
        """The pictures the article is shown with outside its text: the site's image selector (a
        news photo, a gallery), else WordPress's featured image anywhere but in a sidebar, a menu
        or a footer."""
        if self.selectors.images:
            return find_images(select(soup, self.selectors.images), url)
        found = [
            element
            for element in select(soup, DEFAULT_IMAGE_SELECTORS)
            if not any(
                p.name in _NOT_THE_ARTICLES or not _NOT_THE_ARTICLES_CLASSES.isdisjoint(_words(p.get("class")))
                for p in element.parents
            )
        ]
        return find_images(found, url)

    def body_element(self, soup: BeautifulSoup) -> Tag | None:
        """The first element the site's body selector, then each default one, finds.

        Asked up to three times per page (both dates look for the <article> around it): the
        answer is kept on the soup, per body selector, as the page was when first asked.
        """
        return self._body_found(soup)[0]

    def _body_found(self, soup: BeautifulSoup) -> tuple[Tag | None, bool]:
        """`body_element`'s answer, and whether the site's own body selector found it."""
        found: dict[str, tuple[Tag | None, bool]] = vars(soup).setdefault("_ropsfeed_body_elements", {})
        if self.selectors.body not in found:
            element, own = None, False
            for selector in filter(None, (self.selectors.body, *DEFAULT_BODY_SELECTORS)):
                element = select_one(soup, selector)
                if element is not None:
                    own = selector == self.selectors.body
                    break
            found[self.selectors.body] = (element, own)
        return found[self.selectors.body]

    def layout_changes(self, soup: BeautifulSoup) -> list[str]:
        """The site's selectors that find nothing on this page. Only the body's counts: a title
        selector that misses leaves "no title" anyway, and the fallbacks' body of a changed
        layout (the whole #content, a date line) must not replace a stored text."""
        if self.selectors.body and not self._body_found(soup)[1]:
            return [f"the body selector {self.selectors.body!r} matches nothing (layout change?)"]
        return []

    def categories(self, soup: BeautifulSoup) -> list[str]:
        if self.selectors.categories:
            links = select(soup, self.selectors.categories)
        else:  # "a[rel~=category], a[rel~=tag]" without matching a CSS selector on every element
            # (HTML attribute values of rel compare case-insensitively, as soupsieve does)
            links = [a for a in _tags(soup, "a") if not _REL_CATEGORY.isdisjoint(_words(a.get("rel"), lower=True))]
        names = [clean_line(a.get_text(" ")) for a in links]
        if not names:
            names = [
                clean_line(str(m["content"])) for m in _tags(soup, "meta") if m.get("property") == "article:section"
            ]
        return list(dict.fromkeys(n for n in names if n))

    @staticmethod
    def canonical(soup: BeautifulSoup) -> str | None:
        return _link_href(soup, "canonical")

    @staticmethod
    def shortlink(soup: BeautifulSoup) -> str | None:
        return _link_href(soup, "shortlink")

    @staticmethod
    def post_id(soup: BeautifulSoup) -> str | None:
        """WordPress prints `postid-<id>` among the body classes of a single post (any post type)."""
        body = _first(soup, "body")
        classes = body.get("class") if body is not None else None
        for name in classes or ():
            if name.startswith("postid-") and name[7:].isdigit():
                return name[7:]
        return None

    def published(self, soup: BeautifulSoup, structured: dict[str, Any]) -> Stamp:
        return self._timestamp(soup, structured, "datePublished", "article:published_time", "published")

    def modified(self, soup: BeautifulSoup, structured: dict[str, Any]) -> Stamp:
        return self._timestamp(soup, structured, "dateModified", "article:modified_time", "updated")

    def _timestamp(
        self, soup: BeautifulSoup, structured: dict[str, Any], ld_key: str, meta_property: str, time_class: str
    ) -> Stamp:
        raw = structured.get(ld_key)
        value = parse_iso(raw)
        if value:
            return value, "json-ld", iso_granularity(raw)
        meta = _first(soup, "meta", property=meta_property)
        if meta is not None:
            raw = str(meta.get("content", ""))
            value = parse_iso(raw)
            if value:
                return value, "meta", iso_granularity(raw)
        body = self.body_element(soup)
        # body.find_parent("article"), without a SoupStrainer
        scope = next((p for p in body.parents if p.name == "article"), None) if body is not None else None
        # WordPress themes class the <time>; Joomla classes its <dd> and marks the <time> with itemprop
        published = time_class == "published"
        itemprop, joomla_dd = ("datePublished", "published") if published else ("dateModified", "modified")
        selector = (f"time.{time_class}[datetime], time.entry-date[datetime], dd.{joomla_dd} time[datetime], "
                    f"time[itemprop={itemprop}][datetime]")  # fmt: skip
        for time_tag in select(soup, selector, scope):
            if _about_other_pages(time_tag):
                continue
            if (
                time_class == "updated"
                and "updated" not in (time_tag.get("class") or [])
                and time_tag.get("itemprop") != "dateModified"
                and not (time_tag.parent and "modified" in (time_tag.parent.get("class") or []))
            ):
                continue
            raw = str(time_tag["datetime"])
            value = parse_iso(raw)
            if value:
                return value, "time", iso_granularity(raw)
        label = self.selectors.date if published else self.selectors.modified
        if label:
            element = next((e for e in select(soup, label) if not _about_other_pages(e)), None)
            if element is not None:
                return visible_date(element.get_text(" "))
        return None, None, None


def _about_other_pages(element: Tag) -> bool:
    """Whether `element` is in a menu, a sidebar, a widget, a list of related posts or the site's
    footer: a date there is another page's (a sidebar's "latest news" prints theirs, often with
    the classes of the article's own date line), never this page's publication date. A <footer>
    inside the <article> is the post's own (Twenty Fifteen prints the date there)."""
    for parent in element.parents:
        if parent.name in ("nav", "aside"):
            return True
        if parent.name == "footer" and not any(p.name == "article" for p in parent.parents):
            return True
        for word in _words(parent.get("class")):
            if word in _OTHER_PAGES_CLASSES or word.startswith(("sidebar", "widget-", "widget_")) or "-sidebar" in word:
                return True
    return False


_REL_CATEGORY = frozenset({"category", "tag"})


def _tags(soup: BeautifulSoup, name: str) -> list[Tag]:
    """The page's elements called `name`, in document order, from an index made once per page.

    The steps look up a handful of element kinds (link, meta, script, a, body); BeautifulSoup's
    find() walks the whole tree for each. The index (scrapers.extraction.select, which the CSS
    selections use too; from the elements parse_html listed) is kept on the soup and describes the
    page as parsed: ask before the body's boilerplate is stripped.
    """
    return page_index(soup).by_name.get(name, [])


def _first(soup: BeautifulSoup, name: str, **attributes: str) -> Tag | None:
    """`soup.find(name, attr=value…)` for exact single-valued attributes, through `_tags`."""
    for element in _tags(soup, name):
        if all(element.get(key) == value for key, value in attributes.items()):
            return element
    return None


def _words(value: object, lower: bool = False) -> list[str]:
    """A multi-valued attribute (rel, class) as its words, however the parser gave it."""
    words = value.split() if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []
    return [w.lower() for w in words] if lower else words


def _link_href(soup: BeautifulSoup, rel: str) -> str | None:
    """The href of the first <link> whose rel names `rel` (as find("link", rel=…) would find it)."""
    for link in _tags(soup, "link"):
        if rel in _words(link.get("rel")):
            href = link.get("href")
            return str(href).strip() if href else None
    return None


def visible_date(text: str) -> Stamp:
    """A visible label such as "Data dodania: 2024-05-14 13:36", through the Polish date layer."""
    from aggregator.dates import parse_date, to_utc

    span = parse_date(clean_line(text))
    if span is None:
        return None, None, None
    return to_utc(span.start), "label", "minute" if span.granularity == "minute" else "day"
