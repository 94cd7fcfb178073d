"""A page's text in the right encoding, when its charset header or meta tag says a wrong one.

Scrapy decodes a page by its HTTP charset first, then its <meta charset>. Old Polish sites get
these wrong in every direction (SITES.md: windows-1250 and ISO-8859-2 pages; a server that sends
`charset=utf-8` for all of them): decoded by the wrong label, "Społecznej" comes out as
"Spo³ecznej", "SpoĹ‚ecznej" or "Spo�ecznej", and a stored text is replaced by the garbled one.

So the declared decoding is checked: text with none of the characters that such mix-ups produce
(`_MOJIBAKE`) is taken as it is (almost every page: one regex scan). Otherwise each other
encoding a Polish page may be in is tried, strictly, and the one that reads as the most Polish
(`_polish_score`: Polish letters, minus the mix-ups' traces) wins; the declared one keeps ties.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from scrapy.http import HtmlResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

__all__ = ["Decoded", "decode_page"]

# The encodings of Polish pages (after the page's own labels), tried when the declared one fails.
POLISH_ENCODINGS = ("utf-8", "cp1250", "iso8859-2")
# What a wrong decoding of Polish text leaves: C1 controls and U+FFFD (bytes the label cannot
# read), UTF-8 sequences read one byte at a time ("Ä…", "Ĺ‚", "Ã³", "Â "), and windows-1250 or
# ISO-8859-2 letters read as the other or as Latin-1 ("¹", "³", "¿", "±", "¶", "¼", "œ", "ľ").
_MOJIBAKE = re.compile("[\x80-\x9f\ufffdÃÅÄĹĂÂ±¶¼¹³¿œŸŒľˇ¦¬]")
_POLISH = re.compile("[ąćęłńśźżĄĆĘŁŃŚŹŻ]")  # not "ó": the same byte in all three encodings


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
    return len(_POLISH.findall(text)) - 3 * len(_MOJIBAKE.findall(text))


def _codec(name: str | None) -> str | None:
    """A canonical codec name (w3lib's, as Scrapy resolves labels: "latin-1" is windows-1252)."""
    if not name:
        return None
    resolved = resolve_encoding(name)
    return codecs.lookup(resolved).name if resolved else None


def decode_page(body: bytes, content_type: str | None, url: str = "about:blank") -> Decoded:
    """The page's text: as Scrapy decodes it, unless that garbles it and another encoding does not."""
    response = HtmlResponse(url=url, body=body, headers={"Content-Type": content_type} if content_type else None)
    text, declared = response.text, _codec(response.encoding) or response.encoding
    if read_bom(body)[0] is not None or not _MOJIBAKE.search(text):
        return Decoded(text, declared, declared)
    best, best_codec, best_score = text, declared, _polish_score(text)
    labels = (html_body_declared_encoding(body), http_content_type_encoding(content_type or ""), *POLISH_ENCODINGS)
    for name in dict.fromkeys(filter(None, map(_codec, labels))):
        if name == declared:
            continue
        try:
            candidate = body.decode(name)
        except UnicodeDecodeError:
            continue
        score = _polish_score(candidate)
        if score > best_score:
            best, best_codec, best_score = candidate, name, score
    return Decoded(best, best_codec, declared)
