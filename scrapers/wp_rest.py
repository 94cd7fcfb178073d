"""The REST API listing request of a WordPress site, in one place: the spider sends it, and the
mirror builder, the benchmark and the tests lay out their API pages under it, so a change of the
query reaches all of them."""

from __future__ import annotations

from urllib.parse import urlencode

#: What each listed post embeds: its terms (categories, tags) and its featured image. WordPress
#: ≥ 5.4 embeds only the relations named; an older one embeds all of them, these among them.
API_EMBED = "wp:term,wp:featuredmedia"


def api_query(per_page: int, page: int) -> str:
    """The query string of listing page `page` (`per_page=…&page=…&_embed=…`, URL-encoded)."""
    return urlencode({"per_page": per_page, "page": page, "_embed": API_EMBED})
