"""Scraped HTML made safe for our pages (nh3, an allow-list sanitiser).

Bodies may already be cleaned at ingest; they are cleaned again at render because the page must
not trust what is in the database (an older parser, a hand-edited row, another writer).
Relative links are resolved against the announcement's real URL, so they lead to the site, not
to us.
"""

from __future__ import annotations

import re
from urllib.parse import urljoin

import nh3
from markupsafe import escape

from scrapers.extraction.sanitize import ALLOWED_ATTRIBUTES as INGEST_ATTRIBUTES
from scrapers.extraction.sanitize import ALLOWED_TAGS as INGEST_TAGS

ALLOWED_TAGS = INGEST_TAGS
# the ingest allow-list, plus an abbreviation's expansion (harmless, and readers hover for it)
ALLOWED_ATTRIBUTES = {**INGEST_ATTRIBUTES, "abbr": {"title"}}
# as at ingest (tel: too: a phone number a reader on a phone taps; it lost its link here)
URL_SCHEMES = {"http", "https", "mailto", "tel"}
# an <img> as nh3 (html5ever) writes it: attribute values always in double quotes, `"` escaped
_IMG = re.compile(r'<img((?:\s+[^\s="/>]+(?:="[^"]*")?)*)(\s*/?)>')


def sanitize_html(html: str | None, base_url: str | None = None) -> str:
    """Only harmless tags and attributes; no scripts, event handlers, styles or javascript: URLs."""
    if not html:
        return ""

    def resolve(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src") and base_url:
            return urljoin(base_url, value.strip())
        return value

    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        attribute_filter=resolve,
    )
    return _IMG.sub(_with_alt, cleaned)


def _with_alt(match: re.Match[str]) -> str:
    """An image the site gave no `alt` gets an empty one: without it a screen reader reads out the
    file's address ("upload, 53928-1, jpg"), and HTML requires the attribute."""
    attributes = match.group(1)
    if re.search(r'\salt="', attributes):
        return match.group(0)
    return f'<img{attributes} alt=""{match.group(2)}>'


_HEADING_TAG = re.compile(r"<(/?)h([2-6])([\s>])")


def demote_headings(html: str) -> str:
    """The text's headings one level down (h2 → h3 … h5 → h6, h6 stays): the story page shows the
    text under its own h2 "Treść", and the site's h2 made a sibling of it in the outline a screen
    reader walks. Only on the page: a feed's text stands alone."""
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + 1, 6)}{m.group(3)}", html)


def linked_in(attachment: object, html: str) -> bool:
    """Whether sanitised `html` links to the attachment (a mapping or object with a `url`): the
    story page then shows the file in the text and does not list it a second time."""
    url = attachment.get("url") if isinstance(attachment, dict) else getattr(attachment, "url", None)
    return bool(url) and f'href="{escape(url)}"' in html
