"""A page's text in the right encoding, when its charset header or meta tag says a wrong one.

Scrapy decodes a page by its HTTP charset first, then its <meta charset>. Old Polish sites get
these wrong in every direction (SITES.md: windows-1250 and ISO-8859-2 pages; a server that sends
`charset=utf-8` for all of them): decoded by the wrong label, "Społecznej" comes out as
"Spo³ecznej", "SpoĹ‚ecznej" or "Spo�ecznej", and a stored text is replaced by the garbled one.

How it decides:

* A byte order mark, or a page of ASCII alone: as Scrapy reads it (nothing to garble).
* The fast way, almost every page: a page labelled UTF-8 (or not at all) that is valid UTF-8,
  and a page labelled in a single-byte encoding whose reading shows none of the traces a wrong
  one leaves (`_SUSPECT`), are read as labelled.
* Otherwise the page is read as UTF-8, windows-1250 and ISO-8859-2 (and as labelled), and each
  reading scores its Polish letters inside words, less three per byte it cannot read
  (`_polish_score`: the symbols a wrong reading makes letters of stand alone or by digits, "± 5",
  "¼ etatu", "m³"; letters stand by letters). The label's reading stands unless another scores
  `MARGIN` more; a page that is valid UTF-8, or nearly (a stray byte among many UTF-8 letters),
  needs only to score more (valid UTF-8 is strong evidence already: a windows-1250 text is so
  only when all its non-ASCII letters happen to pair up, as "ÓŁ" in "WSPÓŁPRACA", and then its
  own reading scores more). An unlabelled page takes the best reading (Scrapy's guess among all
  codecs is no evidence: ISO-8859-10 reads Polish bytes as letters too).

ISO-8859-2 is read with windows-1250's punctuation in 0x80-0x9F („ ” – …), where ISO-8859-2 has
only invisible control codes: what pages typed in Word and labelled ISO-8859-2 mean by them.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from scrapy.http import HtmlResponse
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

__all__ = ["Decoded", "decode_page"]

UTF8, CP1250, ISO8859_2 = "utf-8", "cp1250", "iso8859-2"
# What a wrong reading leaves: C1 controls and U+FFFD (bytes the label cannot read), UTF-8
# sequences read one byte at a time ("Ä…", "Ĺ‚", "Ã³", "Â "), and windows-1250 or ISO-8859-2
# letters read as the other or as Latin-1 ("¹", "³", "¿", "±", "¶", "¼", "œ", "ľ"). Only the trigger
# to look closer: the scores decide.
_SUSPECT = re.compile("[\x80-\x9f\ufffdÃÅÄĹĂÂ±¶¼¹³¿œŸŒľˇ¦¬¥]")
_POLISH = re.compile("(?<=[^\\W\\d_])[ąćęłńśźżĄĆĘŁŃŚŹŻ]|[ąćęłńśźżĄĆĘŁŃŚŹŻ](?=[^\\W\\d_])")  # not "ó": one byte in all
# How many more points another reading needs than the label's.
MARGIN = 3
_C1 = re.compile("[\x80-\x9f]")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_CP1250_PUNCTUATION = {chr(byte): bytes([byte]).decode(CP1250, "replace") for byte in range(0x80, 0xA0)}


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
    return len(_POLISH.findall(text)) - 3 * text.count("\ufffd")


def _codec(name: str | None) -> str | None:
    """A canonical codec name (w3lib's, as Scrapy resolves labels: "latin-1" is windows-1252)."""
    if not name:
        return None
    resolved = resolve_encoding(name)
    return codecs.lookup(resolved).name if resolved else None


def _label(body: bytes, content_type: str | None) -> str | None:
    """The page's own label, as Scrapy reads it: the HTTP header's, else the meta tag's."""
    return _codec(http_content_type_encoding(content_type or "")) or _codec(html_body_declared_encoding(body))


def _read(body: bytes, codec: str) -> str:
    text = body.decode(codec, "replace")
    if codec == ISO8859_2 and _C1.search(text):
        text = _C1.sub(lambda c: _CP1250_PUNCTUATION[c.group()], text)
    return text


def decode_page(body: bytes, content_type: str | None, url: str = "about:blank") -> Decoded:
    """The page's text: as Scrapy decodes it, unless that garbles it and another encoding does not."""
    label = _label(body, content_type)
    plain = read_bom(body)[0] is not None or body.isascii()
    if not plain and label in (None, UTF8):
        try:
            return Decoded(body.decode(UTF8), UTF8, UTF8)
        except UnicodeDecodeError:
            pass
    response = HtmlResponse(url=url, body=body, headers={"Content-Type": content_type} if content_type else None)
    text = response.text
    declared = _codec(response.encoding) or response.encoding
    if plain or (label is not None and label != UTF8 and not _SUSPECT.search(text)):
        return Decoded(text, declared, declared)  # (no C1 code in it: an ISO-8859-2 reading as `_read` gives)
    readings = {codec: _read(body, codec) for codec in dict.fromkeys((UTF8, CP1250, ISO8859_2, *filter(None, [label])))}
    scores = {codec: _polish_score(reading) for codec, reading in readings.items()}
    # valid UTF-8, or nearly (a byte or two pasted in from elsewhere among many UTF-8 letters)
    unreadable = readings[UTF8].count("\ufffd")
    valid_utf8 = len(_NON_ASCII.findall(readings[UTF8])) - unreadable > 2 * unreadable
    if label is None:  # the best reading; a tie goes to UTF-8 when valid, then to windows-1250
        order = (UTF8, CP1250, ISO8859_2) if valid_utf8 else (CP1250, ISO8859_2, UTF8)
        chosen = max(order, key=lambda codec: scores[codec])
    else:
        chosen = label
        for codec in (UTF8, CP1250, ISO8859_2):
            needed = scores[chosen] + (1 if codec == UTF8 and valid_utf8 else MARGIN)
            if codec != label and scores[codec] >= needed:
                chosen = codec
    if chosen == declared:
        return Decoded(_read(body, ISO8859_2) if declared == ISO8859_2 else text, declared, declared)
    return Decoded(readings[chosen], chosen, declared)
