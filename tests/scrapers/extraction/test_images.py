"""Pictures of an announcement, on small pages shaped like the real themes (fixtures: tests/scrapers/expected)."""

from __future__ import annotations

from scrapers.extraction.article import ArticleParser, body_from_html_fragment
from scrapers.extraction.images import find_images, image_type_of, picture
from scrapers.extraction.soup import parse_html
from scrapers.items import ImageItem
from scrapers.registry import Selectors

_URL = "https://kujawsko-pomorskie.pl/aktualnosci/forum-polityki-spolecznej-2/"
_CAPTION = "Obrady Forum Polityki Społecznej w Toruniu, fot. Szymon Zdzieblo/tarantoga.pl dla UMWKP"
# A WordPress post (kujawsko-pomorskie.pl's theme): the featured image above the title, a photo in
# the text that links its full-size file, and what is not a picture of the news: a related post's
# thumbnail in the sidebar, the file icon of an attachment, an emoji, a lazy placeholder, a pixel.
_POST = f"""<html><body>
<header class="site-header"><img class="custom-logo" src="/wp-content/themes/kp/img/logo.png" alt="Logo"></header>
<main id="main" class="site-main"><article id="post-82273" class="post has-post-thumbnail">
  <figure class="post-thumbnail"><img src="/wp-content/uploads/zdjecie-82273.jpg" alt="{_CAPTION}">
  <figcaption>  {_CAPTION}  </figcaption></figure>
  <h1 class="entry-title">Forum Polityki Społecznej</h1>
  <div class="entry-content">
    <p>W Toruniu trwa VIII Kujawsko-Pomorskie Forum Polityki Społecznej. <img draggable="false" class="emoji"
    alt="🙂" src="https://s.w.org/images/core/emoji/14.0.0/svg/1f642.svg"></p>
    <p><a href="/wp-content/uploads/2023/11/forum-2.jpg"><img src="/wp-content/uploads/2023/11/forum-2-300x200.jpg"
    alt="Uczestnicy  forum" width="300" height="200"></a></p>
    <p><a href="/wp-content/uploads/2023/11/program.pdf"><img src="/wp-includes/images/media/document.png"
    width="48" height="64" alt=""> Program forum (PDF, 120 KB)</a></p>
    <p><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt=""><img src="/stat/pixel.gif" width="1" height="1"></p>
  </div>
</article>
<aside class="widget-area"><section class="widget"><img class="wp-post-image" src="/wp-content/uploads/inny.jpg"
alt="Inny wpis"></section></aside></main></body></html>"""


def test_a_post_is_shown_with_its_featured_image_and_the_photos_of_its_text_and_nothing_else() -> None:
    article = ArticleParser().parse(_POST, _URL)
    assert article.images == [
        ImageItem("https://kujawsko-pomorskie.pl/wp-content/uploads/zdjecie-82273.jpg", _CAPTION, _CAPTION),
        ImageItem("https://kujawsko-pomorskie.pl/wp-content/uploads/2023/11/forum-2.jpg", "Uczestnicy forum", None),
    ], "the full-size file of a linked thumbnail; no logo, sidebar teaser, file icon, emoji, data URI or pixel"
    assert [a.url for a in article.attachments] == [
        "https://kujawsko-pomorskie.pl/wp-content/uploads/2023/11/program.pdf"
    ]
    assert "forum-2-300x200.jpg" in article.body_html, "the text keeps its picture as printed"


def test_a_sites_image_selector_reads_its_gallery_as_the_full_size_files_each_once() -> None:
    # es.umws.pl (Joomla K2): the item's gallery below its text, thumbnails linking the photos
    page = """<html><body><div id="k2Container" class="itemView"><h2 class="itemTitle">Wokół ekonomii społecznej
    w Sandomierzu</h2><div class="itemFullText"><p>Spotkanie w Sandomierzu.</p>
    <p><img src="/media/k2/galleries/92466/1.jpg" alt="Wokół ekonomii społecznej w Sandomierzu"></p></div>
    <div class="itemImageGallery"><ul class="sigProClassic">
    <li><a href="/media/k2/galleries/92466/1.jpg"><img src="/media/k2/galleries/92466/thumbs/1.jpg"
    alt="Wokół ekonomii społecznej w Sandomierzu"></a></li>
    <li><a href="/media/k2/galleries/92466/2.jpg"><img src="/media/k2/galleries/92466/thumbs/2.jpg"
    alt="Wokół ekonomii społecznej w Sandomierzu"></a></li></ul></div></div></body></html>"""
    selectors = Selectors(title="div.itemView h2.itemTitle", body="div.itemView div.itemFullText",
                          images="div.itemView div.itemImageGallery img")  # fmt: skip
    article = ArticleParser(selectors).parse(page, "http://www.es.umws.pl/aktualnosci/item/204-wokol")
    assert [i.url for i in article.images] == [
        "http://www.es.umws.pl/media/k2/galleries/92466/1.jpg",
        "http://www.es.umws.pl/media/k2/galleries/92466/2.jpg",
    ]


def test_rest_api_content_brings_the_pictures_of_its_text() -> None:
    content = """<p>Podmioty ekonomii społecznej z Zachodniopomorskiego pomagają Ukrainie.</p>
    <figure class="wp-block-image"><img loading="lazy" src="https://korzyscidlakazdego.pl/wp-content/uploads/dary.jpg"
    alt=""><figcaption>Wśród darów były ubrania, kosmetyki i zabawki dla dzieci.</figcaption></figure>"""
    body = body_from_html_fragment(content, "https://korzyscidlakazdego.pl/pomagamy-ukrainie/")
    assert body.images == [
        ImageItem(
            "https://korzyscidlakazdego.pl/wp-content/uploads/dary.jpg",
            None,
            "Wśród darów były ubrania, kosmetyki i zabawki dla dzieci.",
        )
    ]


def test_lazy_loaded_and_sized_pictures() -> None:
    soup = parse_html(
        '<div><img data-src="/foto/1.webp" alt="Gala"><img src="/foto/2.png" width="40" height="30" alt="ikonka">'
        '<img src="/foto/3.png" width="640" alt="Szeroki"><img alt="bez pliku"><img src="/ikony/pdf.png">'
        '<img src="data:image/svg+xml,%3Csvg%3E" data-lazy-src="/foto/4.jpg" alt="Laureaci"></div>'
    )
    found = find_images([soup.div], "https://rops.lubelskie.pl/2019/06/gala/")
    assert [i.url for i in found] == [
        "https://rops.lubelskie.pl/foto/1.webp",
        "https://rops.lubelskie.pl/foto/3.png",
        "https://rops.lubelskie.pl/foto/4.jpg",
    ], "a lazy-loaded file behind its placeholder too"
    assert image_type_of("https://x.pl/a/Zdj%C4%99cie.JPG?w=300") == "jpg"
    assert image_type_of("https://x.pl/a.jpg/strona") is None


def test_a_featured_image_in_the_posts_own_header_is_the_posts() -> None:
    # Twenty Twenty-One prints it inside <header class="entry-header">; a site header's logo is not one
    page = """<html><body><header id="masthead"><img class="custom-logo" src="/logo.png" alt="ROPS"></header>
    <article class="post"><header class="entry-header"><h1 class="entry-title">Gala wręczenia certyfikatów</h1>
    <figure class="post-thumbnail"><img class="attachment-post-thumbnail size-post-thumbnail wp-post-image"
    src="/wp-content/uploads/2019/06/gala.jpg" alt="Laureaci" width="1568" height="1045"></figure></header>
    <div class="entry-content"><p>W Centrum Spotkania Kultur odbyła się uroczysta Gala.</p></div></article>
    </body></html>"""
    article = ArticleParser().parse(page, "http://rops.lubelskie.pl/2019/06/gala/")
    assert article.images == [ImageItem("http://rops.lubelskie.pl/wp-content/uploads/2019/06/gala.jpg", "Laureaci")]


def test_an_alt_text_that_says_nothing_about_the_picture_is_left_out() -> None:
    # the real sites' own: es.lubuskie.pl's gallery numbers, wrotapodlasia.pl's "Ilustracja do artykułu
    # <file>", rops.pomorskie.eu's "Grafika poglądowa", analizyspoleczne.pl's "Obrazek aktualności"
    page = """<div>
    <img src="http://es.lubuskie.pl/upload/53928-1.jpg" alt="1210">
    <img src="https://wrotapodlasia.pl/files/images/14796.jpg" alt="Ilustracja do artykułu PRPP-11.jpg">
    <img src="https://rops.pomorskie.eu/wp-content/uploads/2021/10/grafika-26305.jpg" alt="Grafika poglądowa">
    <img src="https://analizyspoleczne.pl/Content/Uploads/News/20.jpg" alt=" Obrazek  aktualności. ">
    <img src="https://rcpslodz.pl/uploads/news/IMG_2034.JPG" alt="IMG_2034">
    <img src="https://rcpslodz.pl/uploads/news/26580.jpg" alt="Społeczna Rada Seniorów Województwa Łódzkiego">
    <img src="https://rops.pomorskie.eu/wp-content/uploads/2024/02/rpo.jpg" alt="Logo RPO 2014-2020">
    </div>"""
    images = find_images(parse_html(page).find_all("div"), "https://example.invalid/")
    assert [image.alt for image in images] == [None] * 5 + [
        "Społeczna Rada Seniorów Województwa Łódzkiego",
        "Logo RPO 2014-2020",
    ]


def test_the_stored_html_gives_a_picture_whose_alt_says_nothing_an_empty_alt_as_the_picture_list_does() -> None:
    # es.lubuskie.pl's text photos carry the gallery's numbers as alt texts ("1210", "1204"): the
    # picture list left them out, but the body's HTML (the story page, the feeds) kept them for a
    # screen reader to read out; a meaningful alt stays in both
    fragment = "".join(
        [
            "<p>W dniach 27-28 maja 2019 r. w Drzecinie spotkał się zespół.</p>",
            '<p><img alt="1210" src="/upload/53928-1.jpg"></p>',
            '<p><img alt="wizyta studentów  z Uniwersytetu Lwowskiego" data-src="/upload/65628-1.jpg"',
            ' src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">',
            ' <img alt="IMG_2034" src="/upload/IMG_2034.JPG"></p>',
        ]
    )
    body = body_from_html_fragment(fragment, "http://es.lubuskie.pl/pl/Aktualnosci/Pierwsze-spotkanie")
    assert [image.alt for image in body.images] == [None, "wizyta studentów z Uniwersytetu Lwowskiego", None]
    assert '<img alt="" src="http://es.lubuskie.pl/upload/53928-1.jpg">' in body.html
    assert 'alt="wizyta studentów  z Uniwersytetu Lwowskiego"' in body.html
    assert '<img alt="" src="http://es.lubuskie.pl/upload/IMG_2034.JPG">' in body.html
    assert "1210" not in body.html and 'alt="IMG_2034"' not in body.html


def test_a_caption_that_is_the_templates_placeholder_is_left_out_as_its_alt_is() -> None:
    # rops.pomorskie.eu prints "Grafika poglądowa." under every post's picture, its alt the same
    page = """<html><body><div class="post-hero"><h1 class="entry-title">Otwarty konkurs ofert</h1>
    <figure class="post-thumbnail"><img src="/wp-content/uploads/2024/02/grafika-90438.jpg" alt="Grafika poglądowa">
    <figcaption>Grafika poglądowa.</figcaption></figure></div>
    <article class="post"><div class="entry-content"><p>Zarząd Województwa Pomorskiego ogłasza konkurs.</p>
    <figure><img src="/wp-content/uploads/2024/02/gala.jpg" alt="Laureaci"><figcaption>Gala, fot. UMWP</figcaption>
    </figure></div></article></body></html>"""
    article = ArticleParser().parse(page, "https://rops.pomorskie.eu/2024/02/06/konkurs-ofert-2")
    assert article.images == [
        ImageItem("https://rops.pomorskie.eu/wp-content/uploads/2024/02/grafika-90438.jpg", None, None),
        ImageItem("https://rops.pomorskie.eu/wp-content/uploads/2024/02/gala.jpg", "Laureaci", "Gala, fot. UMWP"),
    ]
    featured = picture("https://rops.pomorskie.eu/wp-content/uploads/2024/02/grafika.jpg", "", " Grafika  poglądowa ")
    assert featured == ImageItem("https://rops.pomorskie.eu/wp-content/uploads/2024/02/grafika.jpg", None, None)
