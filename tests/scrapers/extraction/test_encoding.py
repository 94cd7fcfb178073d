"""decode_page: a page's text read right when its charset label lies, and as Scrapy reads it otherwise."""

from __future__ import annotations

import pytest
from scrapy.http import HtmlResponse

from scrapers.extraction.encoding import decode_page

# in the encodings the sites use (letters all three have: ISO-8859-2 has no "–" nor „”)
TEXT = "Regionalny Ośrodek Polityki Społecznej w Krakowie zaprasza do składania ofert. Źródło: ŻŁOBEK, Ćmielów, Ąę."


def _page(meta: str = "") -> str:
    return f"<html><head>{meta}<title>Ogłoszenie</title></head><body><p>{TEXT}</p></body></html>"


@pytest.mark.parametrize(
    ("encoding", "label", "meta"),
    [
        ("cp1250", "iso-8859-1", '<meta charset="windows-1250">'),
        ("cp1250", "utf-8", ""),
        ("iso8859-2", "utf-8", ""),
        ("iso8859-2", "windows-1250", '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-2">'),
        ("utf-8", "windows-1250", ""),
        ("utf-8", "iso-8859-2", '<meta charset="utf-8">'),
    ],
)
def test_a_wrong_label_is_overruled_by_the_encoding_that_reads_as_polish(encoding: str, label: str, meta: str) -> None:
    body = _page(meta).encode(encoding, errors="xmlcharrefreplace")
    garbled = HtmlResponse(url="https://x.pl/", body=body, headers={"Content-Type": f"text/html; charset={label}"})
    assert TEXT not in garbled.text, "Scrapy reads it by the label"
    decoded = decode_page(body, f"text/html; charset={label}", "https://x.pl/")
    assert TEXT in decoded.text
    assert decoded.corrected and decoded.note("https://x.pl/") is not None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (_page().encode("utf-8"), "text/html; charset=UTF-8"),
        (_page('<meta charset="windows-1250">').encode("cp1250"), "text/html"),
        (_page().encode("iso8859-2"), "text/html; charset=ISO-8859-2"),
        # what the check looks for, written on purpose: "m³", "¼ etatu", a German name
        (_page().replace("</p>", " Lokal 120 m³, ¼ etatu, Jürgen Ärzte.</p>").encode(), "text/html; charset=utf-8"),
        # a UTF-8 page with one stray windows-1250 byte pasted in: still UTF-8, the byte lost alone
        (_page().encode("utf-8").replace(b"zaprasza", b"zaprasza \xb9"), "text/html; charset=utf-8"),
        # a byte order mark wins over any label, as in browsers and Scrapy
        (b"\xef\xbb\xbf" + _page().encode("utf-8"), "text/html; charset=windows-1250"),
    ],
)
def test_a_right_label_reads_as_scrapy_reads_it(body: bytes, content_type: str) -> None:
    scrapy_text = HtmlResponse(url="https://x.pl/", body=body, headers={"Content-Type": content_type}).text
    decoded = decode_page(body, content_type)
    assert decoded.text == scrapy_text
    assert not decoded.corrected and decoded.note("https://x.pl/") is None
    assert "Społecznej" in decoded.text


@pytest.mark.parametrize(
    ("html", "encoding", "label"),
    [
        # an English page, its symbols the ones the check looks for (not a Polish letter in it)
        ("<p>50 m³ of storage, tolerance ± 5%, ¼ of the budget, 12 m² each.</p>", "utf-8", "utf-8"),
        ("<p>50 m³ of storage, tolerance ± 5%, ¼ of the budget, 12 m² each.</p>", "cp1252", "iso-8859-1"),
        # Polish letters written as entities, one symbol as a character: "7 m³"
        ("<p>Spo&#322;eczna sala 7 m³</p>", "utf-8", "utf-8"),
        ("<p>50 m³</p>", "utf-8", "utf-8"),
        # a windows-1250 page with few Polish letters and the symbols ISO-8859-2 would make letters of
        ("<p>Temperatura ± 2 stopnie, ¬ ˇ, ¶ 3, ± 4, ± 5, ± 6 — Łódź.</p>", "cp1250", "windows-1250"),
        # many German and French names
        ("<p>Jürgen Müller, Zoë Dupré, François, Ärzte — spotkanie w Łodzi.</p>", "utf-8", "utf-8"),
    ],
)
def test_a_right_label_stands_whatever_symbols_the_page_holds(html: str, encoding: str, label: str) -> None:
    body = f"<html><head><title>x</title></head><body>{html}</body></html>".encode(encoding)
    decoded = decode_page(body, f"text/html; charset={label}")
    assert not decoded.corrected, decoded.encoding
    assert html in decoded.text


def test_a_utf8_page_labelled_otherwise_is_read_as_utf8_even_with_few_letters() -> None:
    body = "<html><body><p>Zaproszenie na spotkanie: Łódź, 7 m³.</p></body></html>".encode()
    decoded = decode_page(body, "text/html; charset=windows-1250")
    assert decoded.encoding == "utf-8" and "Łódź, 7 m³" in decoded.text


WORD_QUOTES = "Ośrodek przyjmuje wnioski – zgłoszenia „Mazowiecka Marka” – można składać do końca miesiąca."


def _bytes(html: str, encoding: str, meta: str = "") -> bytes:
    return f"<html><head>{meta}</head><body><p>{html}</p></body></html>".encode(encoding)


def test_an_iso_8859_2_page_with_words_quotes_is_read_as_labelled_with_the_quotes() -> None:
    """Typed in Word, labelled ISO-8859-2: its letters are ISO-8859-2's, its „ ” – windows-1250's
    bytes, which ISO-8859-2 reads as invisible control codes."""
    body = WORD_QUOTES.replace("„", "\x00").replace("”", "\x01").replace("–", "\x02").encode("iso8859-2")
    body = _bytes("", "ascii").replace(b"<p></p>", b"<p>" + body.replace(b"\x00", b"\x84").replace(
        b"\x01", b"\x94").replace(b"\x02", b"\x96") + b"</p>")  # fmt: skip
    decoded = decode_page(body, "text/html; charset=iso-8859-2")
    assert WORD_QUOTES in decoded.text and not decoded.corrected


def test_a_utf8_page_with_a_stray_byte_and_a_single_byte_label_is_utf8() -> None:
    body = _bytes(WORD_QUOTES, "utf-8", '<meta charset="iso-8859-2">').replace("końca".encode(), b"ko\x96ca")
    decoded = decode_page(body, "text/html")
    assert decoded.encoding == "utf-8" and "Ośrodek przyjmuje wnioski – zgłoszenia „Mazowiecka Marka”" in decoded.text


@pytest.mark.parametrize("encoding", ["cp1250", "iso8859-2"])
def test_an_unlabelled_single_byte_page_takes_the_reading_with_the_polish_letters(encoding: str) -> None:
    text = "Ośrodek zaprasza na spotkanie w Łodzi. Źródło: ROPS."
    decoded = decode_page(_bytes(text, encoding), "text/html")
    assert decoded.encoding == encoding and text in decoded.text


def test_a_windows_1250_page_that_is_valid_utf8_by_accident_stays_windows_1250() -> None:
    """Its only non-ASCII letters are capitals that pair up as UTF-8 does ("ÓŁ" is D3 A3)."""
    body = _bytes("WSPÓŁPRACA Z ORGANIZACJAMI", "cp1250", '<meta charset="windows-1250">')
    body.decode("utf-8")  # valid UTF-8 indeed
    decoded = decode_page(body, "text/html")
    assert "WSPÓŁPRACA" in decoded.text and not decoded.corrected


def test_a_windows_1250_page_labelled_utf8_with_a_capitals_menu_is_windows_1250() -> None:
    body = _bytes("WSPÓŁPRACA · Ośrodek zaprasza do współpracy organizacje pozarządowe.", "cp1250")
    decoded = decode_page(body, "text/html; charset=utf-8")
    assert decoded.encoding == "cp1250" and "Ośrodek zaprasza do współpracy" in decoded.text
