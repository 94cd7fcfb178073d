"""Scraped HTML made safe for our pages (nh3, an allow-list sanitiser).

Bodies may already be cleaned at ingest; they are cleaned again at render because the page must
not trust what is in the database (an older parser, a hand-edited row, another writer).
Relative links are resolved against the announcement's real URL, so they lead to the site, not
to us.
"""

from __future__ import annotations

from urllib.parse import urljoin

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "div", "dl", "dt", "em", "figcaption",
    "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "small", "span",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
    "abbr": {"title"},
}
URL_SCHEMES = {"http", "https", "mailto"}


def sanitize_html(html: str | None, base_url: str | None = None) -> str:
    """Only harmless tags and attributes; no scripts, event handlers, styles or javascript: URLs."""
    if not html:
        return ""

    def resolve(tag: str, attribute: str, value: str) -> str | None:
        if attribute in ("href", "src") and base_url:
            return urljoin(base_url, value.strip())
        return value

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
        attribute_filter=resolve,
    )
