"""A page's text in the right encoding, when its charset header or meta tag says a wrong one.

Scrapy decodes a page by its HTTP charset first, then its <meta charset>. Old Polish sites get
these wrong in every direction (SITES.md: windows-1250 and ISO-8859-2 pages; a server that sends
`charset=utf-8` for all of them): decoded by the wrong label, "Społecznej" comes out as
"Spo³ecznej", "SpoĹ‚ecznej" or "Spo�ecznej", and a stored text is replaced by the garbled one.

What decides, in this order:

1. A byte order mark, or a page of ASCII alone: the label, whatever it says (nothing to garble).
2. A page that is valid UTF-8 and not ASCII is UTF-8: a windows-1250 or ISO-8859-2 text with a
   Polish letter in it is never valid UTF-8 (its letters are single bytes above 0x7F that UTF-8
   only allows in sequences).
3. Otherwise the label's reading stands unless it shows the traces of a wrong one (`_SUSPECT`):
   a page labelled UTF-8 with more valid UTF-8 letters than bytes it cannot read is UTF-8 with
   a few stray bytes pasted in; else another single-byte Polish encoding must read the page with
   clearly more Polish letters and fewer unreadable characters (`_polish_score`, `MARGIN`), so a
   few "±" or "m³" in an English page move nothing.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from scrapy.http import HtmlResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

__all__ = ["Decoded", "decode_page"]

# The single-byte encodings of Polish pages, tried (after the page's own labels) when the label's
# reading looks wrong.
SINGLE_BYTE_POLISH = ("cp1250", "iso8859-2")
# What a wrong reading leaves: C1 controls and U+FFFD (bytes the label cannot read), and the
# letters windows-1250 and ISO-8859-2 bytes become in the other or in Latin-1 ("¹", "³", "¿", "±",
# "¶", "¼", "œ", "ľ"…). Only a trigger to look closer: the score decides.
_SUSPECT = re.compile("[\x80-\x9f\ufffd±¶¼¹³¿œŸŒľˇ¦¬¥]")
# A two-byte UTF-8 sequence (Polish letters are: "ą" is C4 85, "ó" C3 B3).
_UTF8_PAIR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]")
# A Polish letter inside a word: the symbols a wrong reading turns into letters stand alone or by
# digits ("± 5", "¼ etatu"), letters stand by letters. Not "ó": the same byte in all three.
_POLISH = re.compile("(?<=[^\\W\\d_])[ąćęłńśźżĄĆĘŁŃŚŹŻ]|[ąćęłńśźżĄĆĘŁŃŚŹŻ](?=[^\\W\\d_])")
_UNREADABLE = re.compile("[\x80-\x9f\ufffd]")
# How many more Polish letters (less three per unreadable character) another reading must give.
MARGIN = 3


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str  # the codec the text was read with
    declared: str  # what Scrapy would have read it with (the header, the meta tag, a guess)

    @property
    def corrected(self) -> bool:
        return self.encoding != self.declared

    def note(self, url: str) -> str | None:
        """The log line for a page whose label was wrong, None for the others."""
        if not self.corrected:
            return None
        return f"{url}: read as {self.encoding}, not as declared ({self.declared}): the declared charset garbles it"


def _polish_score(text: str) -> int:
    return len(_POLISH.findall(text)) - 3 * len(_UNREADABLE.findall(text))


def _codec(name: str | None) -> str | None:
    """A canonical codec name (w3lib's, as Scrapy resolves labels: "latin-1" is windows-1252)."""
    if not name:
        return None
    resolved = resolve_encoding(name)
    return codecs.lookup(resolved).name if resolved else None


def _label(body: bytes, content_type: str | None) -> str | None:
    """The page's own label, as Scrapy reads it: the HTTP header's, else the meta tag's."""
    return _codec(http_content_type_encoding(content_type or "")) or _codec(html_body_declared_encoding(body))


def decode_page(body: bytes, content_type: str | None, url: str = "about:blank") -> Decoded:
    """The page's text: as Scrapy decodes it, unless that garbles it and another encoding does not."""
    if read_bom(body)[0] is None and not body.isascii():
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            return Decoded(text, "utf-8", _label(body, content_type) or "utf-8")
    response = HtmlResponse(url=url, body=body, headers={"Content-Type": content_type} if content_type else None)
    text = response.text
    declared = _codec(response.encoding) or response.encoding
    if read_bom(body)[0] is not None or body.isascii() or not _SUSPECT.search(text):
        return Decoded(text, declared, declared)
    if declared == "utf-8" and len(_UTF8_PAIR.findall(body)) >= text.count("\ufffd"):
        return Decoded(text, declared, declared)  # UTF-8 with a few stray bytes pasted in
    best, best_codec, best_score = text, declared, _polish_score(text)
    needed = best_score + MARGIN
    for name in dict.fromkeys(filter(None, (_label(body, content_type), *map(_codec, SINGLE_BYTE_POLISH)))):
        if name in (declared, "utf-8"):
            continue
        try:
            candidate = body.decode(name)
        except UnicodeDecodeError:
            continue
        score = _polish_score(candidate)
        if score >= needed and score > best_score:
            best, best_codec, best_score = candidate, name, score
    return Decoded(best, best_codec, declared)
