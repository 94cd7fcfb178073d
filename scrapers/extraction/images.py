"""Pictures of an announcement: the photos in its text, its featured image, its gallery.

What counts is a picture of the news, not the page's furniture: file-type icons beside the
attachments ("Ikona PDF"), emoji, tracking pixels, spacers and inline SVG icons are left out. A
thumbnail that links to its full-size file (galleries, WordPress "link to media file") stands for
that file: its URL is the file's, the one a reader would open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import chain
from urllib.parse import urljoin, urlsplit

from bs4 import Tag

from scrapers.extraction.attachments import file_type_of
from scrapers.extraction.file_names import suffix_of
from scrapers.extraction.text import clean_line
from scrapers.items import ImageItem

IMAGE_TYPES = frozenset({"jpg", "jpeg", "png", "gif", "webp", "avif", "bmp", "tif", "tiff"})
#: Smaller than this (both sides given in the markup) is an icon or a spacer, not a picture.
MIN_SIDE = 48
_ICON_CLASS = re.compile(r"icon|emoji|spacer|pixel", re.IGNORECASE)
_ICON_PATH = re.compile(r"/(?:icons?|ikon[ya]?|emoji|smilies)/|s\.w\.org/images/core/emoji", re.IGNORECASE)


def image_type_of(url: str) -> str | None:
    """The picture format a URL's file name ends with (`jpg`, `png`, …), or None."""
    suffix = suffix_of(url)
    return suffix if suffix in IMAGE_TYPES else None


def find_images(elements: Iterable[Tag], base_url: str) -> list[ImageItem]:
    """The pictures among `elements` (each an `<img>` or an element holding some), in order, each
    file once."""
    imgs = chain.from_iterable(
        [element] if element.name == "img" else [e for e in element.descendants if _is_img(e)] for element in elements
    )
    return each_once(item for img in imgs if (item := _image(img, base_url)) is not None)


def each_once(images: Iterable[ImageItem]) -> list[ImageItem]:
    """`images` in order, each file (URL) once, as first met: a featured image printed again in the
    text from the same file, a gallery thumbnail linking a file met before. (A resized copy of a
    picture, `foto-1024x536.jpg` beside `foto.jpg`, is another file and stays.)"""
    found: dict[str, ImageItem] = {}
    for image in images:
        found.setdefault(image.url, image)
    return list(found.values())


def _is_img(element: object) -> bool:
    return isinstance(element, Tag) and element.name == "img"


#: Where lazy-loading themes and plugins keep the real file while `src` holds a placeholder.
_LAZY_SOURCES = ("data-src", "data-lazy-src", "data-original")


def _image(img: Tag, base_url: str) -> ImageItem | None:
    sources = (str(img.get(name) or "").strip() for name in ("src", *_LAZY_SOURCES))
    src = next((s for s in sources if s and not s.startswith(("data:", "javascript:"))), None)
    if src is None:
        return None
    url = urljoin(base_url, src)
    if urlsplit(url).scheme not in ("http", "https") or _is_furniture(img, url):
        return None
    link = next((p for p in img.parents if p.name == "a"), None)
    if link is not None and link.get("href"):
        target = urljoin(base_url, str(link["href"]).strip())
        if file_type_of(target) is not None:
            return None  # the icon of an attachment ("Ikona PDF" linking the PDF)
        if image_type_of(target) is not None:
            url = target  # a thumbnail of the full-size picture
    alt = meaningful_alt(str(img.get("alt") or ""), url)
    figure = next((p for p in img.parents if p.name == "figure"), None)
    caption_element = figure.find("figcaption") if figure is not None else None
    caption = clean_line(caption_element.get_text(" ")) if isinstance(caption_element, Tag) else ""
    return ImageItem(url=url, alt=alt, caption=meaningful_caption(caption, url))


def blank_empty_alts(root: Tag) -> None:
    """Empty the alt text of each `<img>` under `root` that says nothing (`meaningful_alt`), as the
    stored HTML's pictures: the picture list already drops "1210" (es.lubuskie.pl's gallery
    numbering) or "Ilustracja do artykułu PRPP-11.jpg", while the body's HTML, which the story page
    and the feeds show, kept them for a screen reader to read out. An empty alt, not none: the
    picture is then passed over rather than announced by its file name."""
    for img in [e for e in root.descendants if _is_img(e)]:
        alt = img.get("alt")
        if isinstance(alt, str) and alt.strip():
            sources = (str(img.get(name) or "").strip() for name in ("src", *_LAZY_SOURCES))
            src = next((s for s in sources if s and not s.startswith(("data:", "javascript:"))), "")
            if meaningful_alt(alt, src) is None:
                img["alt"] = ""


def picture(
    url: str, alt: str | None, caption: str | None, width: object = None, height: object = None
) -> ImageItem | None:
    """A picture known by its file rather than by an `<img>` (a REST API post's featured media),
    unless the file is furniture by the rules `<img>`s are judged by."""
    if urlsplit(url).scheme not in ("http", "https") or _is_furniture_file(url, width, height):
        return None
    return ImageItem(url=url, alt=meaningful_alt(alt or "", url), caption=meaningful_caption(caption or "", url))


#: Alt texts that CMS templates put on every picture, saying nothing about this one ("a news
#: picture"): folded to lower case without end punctuation.
PLACEHOLDER_ALTS = frozenset({
    "grafika", "grafika poglądowa", "zdjęcie", "zdjęcie poglądowe", "zdjecie", "obrazek", "obrazek aktualności",
    "ilustracja", "ilustracja do artykułu", "miniatura", "foto", "fot", "image", "img", "photo", "picture",
    "thumbnail", "placeholder", "brak zdjęcia",
})  # fmt: skip
_NO_WORDS = re.compile(r"[\W\d_]*")
_FILE_NAME = re.compile(r"\S+\.(?:jpe?g|png|gif|webp|avif|bmp|tiff?)", re.IGNORECASE)


def meaningful_alt(alt: str, url: str) -> str | None:
    """The picture's alt text, or None when it says nothing a reader could use: no letters ("1210",
    a gallery's numbering), the file's name ("IMG_2034.jpg"), or a template's placeholder that every
    picture of the site carries ("Grafika poglądowa", "Obrazek aktualności"). A screen reader is
    better served by passing over the picture (the web page then gives it an empty alt) than by
    reading those out, and an analyst searching the pictures' texts would find only noise."""
    text = clean_line(alt)
    name = urlsplit(url).path.rsplit("/", 1)[-1].lower()
    folded = text.lower()
    if folded in (name, name.rsplit(".", 1)[0]):
        return None
    words = _FILE_NAME.sub("", folded).strip().rstrip(".:;,!").strip()  # "Ilustracja do artykułu PRPP-11.jpg"
    if _NO_WORDS.fullmatch(words) or words in PLACEHOLDER_ALTS:
        return None
    return text


def meaningful_caption(caption: str, url: str) -> str | None:
    """The picture's caption, or None when it says nothing, by the rules of `meaningful_alt`: the
    template's placeholder is printed as the caption too (rops.pomorskie.eu puts "Grafika
    poglądowa." under every post's picture), and stored it was the same noise for a search of the
    pictures' texts and for the story page, which shows it under the picture."""
    return meaningful_alt(caption, url)


def _is_furniture(img: Tag, url: str) -> bool:
    classes = img.get("class")
    if classes and _ICON_CLASS.search(" ".join(classes) if isinstance(classes, list) else str(classes)):
        return True
    return _is_furniture_file(url, img.get("width"), img.get("height"))


def _is_furniture_file(url: str, width: object, height: object) -> bool:
    """An icon's or a vector's path, or a size (both sides known) below `MIN_SIDE`."""
    if _ICON_PATH.search(url) or urlsplit(url).path.lower().endswith(".svg"):
        return True
    sides = [_pixels(width), _pixels(height)]
    return all(side is not None for side in sides) and min(sides) < MIN_SIDE  # type: ignore[type-var]


def _pixels(value: object) -> int | None:
    text = str(value if value is not None else "").strip().removesuffix("px")
    return int(text) if text.isdigit() else None
