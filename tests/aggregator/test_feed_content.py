"""The feeds' full text and files (aggregator.feed_content), and how each format carries them:
in-process renders of built entries, parsed back with lxml and feedparser."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import feedparser
import pytest
from lxml import etree, html

from aggregator.feed_content import (
    ATTACHMENTS_MAX,
    DEFAULT_MIME_TYPE,
    READ_MORE,
    body_html,
    mime_type_of,
    size_in_bytes,
    story_attachments,
    truncate_text,
)
from aggregator.feeds import FeedEntry, FeedFilters, render
from db.models import Attachment

ATOM = "{http://www.w3.org/2005/Atom}"
PICTURE = "https://rcpslodz.pl/uploads/news/72062.jpg"


def test_only_a_size_given_in_bytes_becomes_a_byte_count() -> None:
    assert size_in_bytes("523 bajty") == 523
    assert size_in_bytes("1 234 bajtów") == 1234
    assert size_in_bytes("812 B") == 812
    # rounded, and MB may be 10^6 or 2^20 bytes: no number is honest
    assert size_in_bytes("1,2 MB") is None
    assert size_in_bytes("245 KB") is None
    assert size_in_bytes("3 MiB") is None
    assert size_in_bytes("12 b") is None, "bits are not bytes"
    assert size_in_bytes(None) is None and size_in_bytes("") is None


def test_mime_type_by_file_type_then_url_then_a_safe_default() -> None:
    assert mime_type_of("pdf", "https://a.pl/pliki/regulamin.pdf") == "application/pdf"
    assert mime_type_of("doc", "https://a.pl/x.doc") == "application/msword"
    assert mime_type_of("odt", "https://a.pl/x.odt") == "application/vnd.oasis.opendocument.text"
    assert mime_type_of(None, "https://a.pl/wniosek.DOCX?v=2").endswith("wordprocessingml.document")
    assert mime_type_of(None, "https://a.pl/download/123") == DEFAULT_MIME_TYPE, "a download link without a type"


def _file(name: str, url: str, file_type: str | None = "pdf", size: str | None = None) -> Attachment:
    return Attachment(name=name, url=url, file_type=file_type, size=size)


def test_a_cross_posted_file_is_listed_once_and_files_of_the_same_name_are_told_apart() -> None:
    own = [_file("Pobierz", "https://mcps.com.pl/f/regulamin.pdf"), _file("Pobierz", "https://mcps.com.pl/f/wniosek.pdf"),
           _file("Formularz", "https://mcps.com.pl/f/formularz.pdf", size="1,2 MB")]  # fmt: skip
    other = [_file("formularz", "https://es.mcps-efs.pl/f/formularz.pdf", size="1,2 MB"),  # the same file elsewhere
             _file("Pobierz", "https://mcps.com.pl/f/regulamin.pdf"),  # the same URL
             _file("Ulotka", "https://es.mcps-efs.pl/f/ulotka.odt", file_type="odt", size="523 bajty")]  # fmt: skip
    files = story_attachments(own, [other])
    assert [(f.title, f.url.rsplit("/", 1)[1]) for f in files] == [
        ("Pobierz (regulamin.pdf)", "regulamin.pdf"), ("Pobierz (wniosek.pdf)", "wniosek.pdf"),
        ("Formularz", "formularz.pdf"), ("Ulotka", "ulotka.odt")]  # fmt: skip
    assert [f.size_in_bytes for f in files] == [None, None, None, 523]
    assert files[2].label() == "PDF, 1,2\u00a0MB" and files[3].mime_type == "application/vnd.oasis.opendocument.text"
    many = [_file("Załącznik", f"https://a.pl/{n}.pdf") for n in range(ATTACHMENTS_MAX + 5)]
    titles = [f.title for f in story_attachments(many, [])]
    assert len(titles) == ATTACHMENTS_MAX and len(set(titles)) == ATTACHMENTS_MAX, "bounded, and all distinct"


def test_a_body_is_sanitised_and_a_long_one_cut_closed_with_a_link_to_the_page() -> None:
    page = "https://mcps.com.pl/aktualnosci/nabor/"
    hostile = '<p>Nabór<script>alert(1)</script> <a href="/regulamin.pdf" onclick="x()">Regulamin</a></p>'
    assert body_html(hostile, page) == (
        '<p>Nabór <a href="https://mcps.com.pl/regulamin.pdf" rel="nofollow noopener noreferrer">Regulamin</a></p>'
    )
    long = (
        "<div><ul>" + "".join(f"<li><strong>Punkt {n}</strong> treść punktu</li>" for n in range(2000)) + "</ul></div>"
    )
    cut = body_html(long, page, limit=5000)
    assert len(cut) < 5300 and cut.endswith(f'<p><a href="{page}">{READ_MORE}</a></p>')
    tree = html.fragment_fromstring(cut, create_parent="div")
    assert tree.xpath("count(//li)") > 50 and cut.count("<li>") == cut.count("</li>"), "cut before a tag, closed"
    assert cut.count("<strong>") == cut.count("</strong>") and cut.count("<ul>") == cut.count("</ul>")
    text = "słowo " * 5000
    assert truncate_text(text, page, limit=1000).endswith(f"słowo…\n\n{READ_MORE}: {page}")
    assert truncate_text("krótki tekst", page) == "krótki tekst"


def _entry(**changes: object) -> FeedEntry:
    files = story_attachments([
        _file("Regulamin konkursu", "https://rcpslodz.pl/pliki/regulamin.pdf", size="1.2 MB"),
        _file("Wniosek <nr 1> & załączniki", "https://rcpslodz.pl/pliki/wniosek.docx?a=1&b=2", "docx", "2048 bajtów"),
    ], [])  # fmt: skip
    fields: dict[str, object] = {
        "id": "https://rcpslodz.pl/aktualnosci/nabor-r1198", "url": "https://rcpslodz.pl/aktualnosci/nabor-r1198",
        "title": "Nabór wniosków", "summary": "Ogłaszamy nabór <wniosków>.",
        "published": datetime(2024, 3, 12, 10, tzinfo=UTC), "updated": datetime(2024, 3, 12, 10, tzinfo=UTC),
        "source_id": "rcps-lodz", "institution": "Regionalne Centrum Polityki Społecznej w Łodzi",
        "voivodeship": "łódzkie", "image": PICTURE, "attachments": files,
        "content_html": '<p>Pełna treść. <a href="https://rcpslodz.pl/pliki/regulamin.pdf">Regulamin</a></p>',
        "content_text": "Pełna treść. Regulamin",
    }  # fmt: skip
    fields.update(changes)
    return FeedEntry(**fields)  # type: ignore[arg-type]


def test_rss_keeps_the_picture_as_its_one_enclosure_and_lists_the_files_in_polish() -> None:
    document = render([_entry()], FeedFilters(), "rss")
    assert not feedparser.parse(document).bozo
    item = etree.fromstring(document.encode()).find("channel/item")
    assert [(e.get("url"), e.get("type")) for e in item.findall("enclosure")] == [(PICTURE, "image/jpeg")]
    description = html.fragment_fromstring(item.findtext("description"), create_parent="div")
    assert description.findtext("p") == "Ogłaszamy nabór <wniosków>."
    assert description.findtext("h3") == "Załączniki"
    assert [(a.get("href"), a.text, a.tail) for a in description.iter("a")] == [
        # the size in Polish, as the page shows it: the site wrote "1.2 MB"
        ("https://rcpslodz.pl/pliki/regulamin.pdf", "Regulamin konkursu", " (PDF, 1,2\u00a0MB)"),
        ("https://rcpslodz.pl/pliki/wniosek.docx?a=1&b=2", "Wniosek <nr 1> & załączniki", " (DOCX, 2048\u00a0bajtów)"),
    ]
    body = item.findtext("{http://purl.org/rss/1.0/modules/content/}encoded")
    assert body.startswith("<p>Pełna treść.") and "wniosek.docx" in body, "the file the text does not link"
    assert body.count("regulamin.pdf") == 1, "the file the text links is not listed again"
    bare = etree.fromstring(render([_entry(attachments=[], content_html=None)], FeedFilters(), "rss").encode())
    assert bare.findtext("channel/item/description") == "Ogłaszamy nabór <wniosków>.", "no files: the lead alone"


def test_atom_links_every_file_besides_the_picture_and_carries_the_body() -> None:
    document = render([_entry()], FeedFilters(), "atom")
    parsed = feedparser.parse(document)
    assert not parsed.bozo
    entry = etree.fromstring(document.encode()).find(f"{ATOM}entry")
    enclosures = [link.attrib for link in entry.findall(f"{ATOM}link") if link.get("rel") == "enclosure"]
    assert [dict(a) for a in enclosures] == [
        {"href": "https://rcpslodz.pl/pliki/regulamin.pdf", "rel": "enclosure", "type": "application/pdf",
         "title": "Regulamin konkursu"},
        {"href": "https://rcpslodz.pl/pliki/wniosek.docx?a=1&b=2", "rel": "enclosure",
         "type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "title": "Wniosek <nr 1> & załączniki", "length": "2048"},
        {"href": PICTURE, "rel": "enclosure", "type": "image/jpeg"},
    ]  # fmt: skip
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "html" and content.text.startswith("<p>Pełna treść.")
    assert entry.find(f"{ATOM}summary").text == "Ogłaszamy nabór <wniosków>."
    assert len(parsed.entries[0].enclosures) == 3


def test_json_feed_carries_the_html_the_text_the_lead_and_the_files() -> None:
    [item] = json.loads(render([_entry()], FeedFilters(), "json"))["items"]
    assert item["content_html"].startswith("<p>Pełna treść.") and item["content_text"] == "Pełna treść. Regulamin"
    assert item["summary"] == "Ogłaszamy nabór <wniosków>."
    assert item["attachments"] == [
        {"url": "https://rcpslodz.pl/pliki/regulamin.pdf", "mime_type": "application/pdf",
         "title": "Regulamin konkursu", "_ropsfeed": {"file_type": "pdf", "size": "1.2 MB"}},  # data: as written
        {"url": "https://rcpslodz.pl/pliki/wniosek.docx?a=1&b=2",
         "mime_type": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
         "title": "Wniosek <nr 1> & załączniki", "size_in_bytes": 2048,
         "_ropsfeed": {"file_type": "docx", "size": "2048 bajtów"}},
    ]  # fmt: skip
    [bare] = json.loads(render([_entry(attachments=[], content_html=None, content_text=None)], FeedFilters(),
                               "json"))["items"]  # fmt: skip
    assert "attachments" not in bare and "content_html" not in bare
    assert bare["content_text"] == bare["summary"], "without the body loaded: the lead, as before"


@pytest.mark.parametrize("feed_format", ["atom", "rss", "json"])
def test_an_entry_without_body_or_files_renders_as_before(feed_format: str) -> None:
    plain = render([_entry(attachments=[], content_html=None, content_text=None)], FeedFilters(), feed_format)
    assert "Załączniki" not in plain and "Pełna treść" not in plain
