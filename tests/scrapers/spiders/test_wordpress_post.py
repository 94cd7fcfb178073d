"""One REST API post → an announcement (scrapers.spiders.wordpress.item_from_post)."""

from __future__ import annotations

import json

from scrapers.mirror.server import SNAPSHOT_DIR
from scrapers.spiders.wordpress import item_from_post


def test_a_posts_categories_and_tags_are_its_categories_as_on_its_html_page() -> None:
    posts = json.loads((SNAPSHOT_DIR / "rops.poznan.pl/wp-json/wp/v2/posts-page-2.json").read_text(encoding="utf-8"))
    post = next(p for p in posts if p["id"] == 72184)  # a real post: one category, no tag
    item = item_from_post(post, "rops-poznan", None)
    assert item is not None and item.categories == ["Aktualności"]
    tagged = json.loads(json.dumps(post))
    tagged["_embedded"]["wp:term"][1] = [
        {"id": 12, "name": "Samorząd Społecznie Odpowiedzialny", "slug": "ssso", "taxonomy": "post_tag"},
        {"id": 13, "name": "Aktualności", "slug": "aktualnosci-2", "taxonomy": "post_tag"},
    ]
    tagged_item = item_from_post(tagged, "rops-poznan", None)
    assert tagged_item is not None
    assert tagged_item.categories == ["Aktualności", "Samorząd Społecznie Odpowiedzialny"], "categories, tags, once"
