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


def _with_media(post: dict, *media: dict) -> dict:
    copy = json.loads(json.dumps(post))
    copy["_embedded"]["wp:featuredmedia"] = list(media)
    return copy


def test_the_featured_image_leads_the_posts_pictures_and_furniture_or_private_media_is_none() -> None:
    posts = json.loads((SNAPSHOT_DIR / "rops.poznan.pl/wp-json/wp/v2/posts-page-2.json").read_text(encoding="utf-8"))
    post = next(p for p in posts if p["id"] == 72184)
    photo = "https://rops.poznan.pl/wp-content/uploads/2022/05/konferencja.jpg"
    post["content"]["rendered"] += f'<p><img src="{photo}" alt="Sala konferencyjna" width="800" height="600"></p>'
    featured = {
        "id": 5,
        "media_type": "image",
        "alt_text": " Uczestnicy\u00a0konferencji ",
        "caption": {"rendered": "<p>Fot. ROPS w&nbsp;Poznaniu</p>\n"},
        "media_details": {"width": 1024, "height": 683},
        "source_url": "https://rops.poznan.pl/wp-content/uploads/2022/05/uczestnicy.jpg",
    }
    item = item_from_post(_with_media(post, featured), "rops-poznan", None)
    assert item is not None
    assert [(i.url, i.alt, i.caption) for i in item.images] == [
        (featured["source_url"], "Uczestnicy konferencji", "Fot. ROPS w Poznaniu"),
        (photo, "Sala konferencyjna", None),
    ]
    shown_again = item_from_post(_with_media(post, {**featured, "source_url": photo}), "rops-poznan", None)
    assert shown_again is not None and [i.url for i in shown_again.images] == [photo], "each file once"
    assert shown_again.images[0].alt == "Uczestnicy konferencji", "as first met: the featured image"
    for not_a_picture in (
        {"code": "rest_forbidden", "message": "Brak uprawnień.", "data": {"status": 403}},
        {**featured, "media_type": "file", "source_url": "https://rops.poznan.pl/wp-content/uploads/plan.pdf"},
        {**featured, "source_url": "https://rops.poznan.pl/wp-content/uploads/logo.svg"},
        {**featured, "media_details": {"width": 16, "height": 16}},
        {**featured, "source_url": "javascript:alert(1)"},
    ):
        plain_item = item_from_post(_with_media(post, not_a_picture), "rops-poznan", None)
        assert plain_item is not None and [i.url for i in plain_item.images] == [photo], not_a_picture


def test_a_post_empty_once_read_is_none_but_a_poster_or_a_file_alone_is_content() -> None:
    posts = json.loads((SNAPSHOT_DIR / "rops.poznan.pl/wp-json/wp/v2/posts-page-2.json").read_text(encoding="utf-8"))
    post = json.loads(json.dumps(next(p for p in posts if p["id"] == 72184)))
    post["content"]["rendered"] = "<p>&nbsp;</p>\n<p> </p>"
    assert item_from_post(post, "rops-poznan", None) is None, "a spacer is no text"
    poster_html = '<figure><img src="/wp-content/uploads/2024/03/plakat-konkursu.jpg" alt="Plakat"></figure>'
    post["content"]["rendered"] = poster_html
    poster = item_from_post(post, "rops-poznan", None)
    assert poster is not None and [i.url.rsplit("/", 1)[-1] for i in poster.images] == ["plakat-konkursu.jpg"]
    post["content"]["rendered"] = '<p><a href="/wp-content/uploads/2024/03/regulamin.pdf">Regulamin</a></p>'
    leaflet = item_from_post(post, "rops-poznan", None)
    assert leaflet is not None and [a.name for a in leaflet.attachments] == ["Regulamin"]
