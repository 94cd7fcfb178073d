"""HTML → paragraph-aware plain text.

Announcements are read as paragraphs (leads, deduplication shingles, digests), so block elements
become paragraphs separated by a blank line and inline markup disappears without gluing words.
"""

from __future__ import annotations

import re
import unicodedata

from bs4 import NavigableString, Tag

from scrapers.extraction.soup import parsed_html

BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "div",
        "dl",
        "dt",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "ul",
    ]
)
# Every run of these characters becomes one space. Only the runs " " does not already stand for
# are replaced (two or more characters, or one other than a plain space): the same text, without
# a replacement for each single space between two words.
_SPACE_CHARS = r" \t\u00a0\u2000-\u200a\u202f\u205f\u3000"  # (a character class: \u2000-\u200a is a range)
_SPACE_RUNS = re.compile(rf" [{_SPACE_CHARS}]+|[{_SPACE_CHARS[1:]}][{_SPACE_CHARS}]*")
_BLANK_LINES = re.compile(r"\n\s*\n+")
# A line break of preformatted text (<pre>) while the text is put together, so that
# `join_soft_breaks` leaves it alone: a private-use character, not found in the sites' texts.
_PRE_BREAK = "\ue000"


def clean_line(text: str) -> str:
    """NFC, one space between words, no zero-width characters."""
    text = unicodedata.normalize("NFC", text).replace("\u200b", "").replace("\ufeff", "")
    return _SPACE_RUNS.sub(" ", text).strip()


def soup_to_text(root: Tag) -> str:
    """Text of an already parsed element, one paragraph per block element."""
    parts: list[str] = []
    append = parts.append

    def walk(node: Tag, preformatted: bool = False) -> None:
        for child in node.contents:
            if type(child) is NavigableString:  # not its subclasses: comments, CDATA, doctype, scripts
                # in HTML a newline in the source is a space; only <br> and blocks break lines
                append(child.replace("\n", _PRE_BREAK) if preformatted else child.replace("\n", " "))
            elif isinstance(child, Tag):
                if child.name == "br":
                    append(_PRE_BREAK if preformatted else "\n")
                elif child.name in BLOCK_TAGS:
                    append("\n\n")
                    walk(child, preformatted or child.name == "pre")
                    append("\n\n")
                elif child.name in ("td", "th"):
                    walk(child, preformatted)
                    append(" ")
                else:
                    walk(child, preformatted)

    walk(root)
    # clean_line on every line, done to the whole text at once: NFC never joins characters across
    # a line break, and the spaces it collapses are not line breaks (same text, one call each)
    text = unicodedata.normalize("NFC", "".join(parts)).replace("\u200b", "").replace("\ufeff", "")
    text = "\n".join([line.strip() for line in _SPACE_RUNS.sub(" ", text).split("\n")])
    text = join_soft_breaks(_BLANK_LINES.sub("\n\n", text).strip())
    if _PRE_BREAK in text:  # the lines of preformatted text: cleaned as every line, never joined
        text = "\n".join([line.strip() for line in text.replace(_PRE_BREAK, "\n").split("\n")])
        text = _BLANK_LINES.sub("\n\n", text).strip()
    return text


def join_soft_breaks(text: str) -> str:
    """`text` with the line breaks inside a sentence (`_SOFT_BREAK`) turned into spaces."""
    return _SOFT_BREAK.sub(_soft_break, text) if "\n" in text else text


# A line break inside a paragraph (a <br>) where the sentence goes on: editors wrap lines by hand
# ("osoby upoważnione<br>do reprezentowania", "najpóźniej do<br>9 października 2015 r."). Read as
# a break, it cut the sentence for the reader, for the date finder ("do" + date is a deadline)
# and for institution names (a name never spans a line). Such a break follows a line of prose (at
# least `_WRAPPED_LINE` characters: short lines are a list's items, a signature, an address) not
# ending in ",", ":" or ";" (a list's heading and items), and goes on in lower case (not with an
# abbreviation or a label: "ul. Modelarska 10", "tel. 32 …", "e-mail: …"), or with a number after
# a word that cannot end a sentence; it joins the lines.
_SOFT_BREAK = re.compile(r"(?<=[^\n])\n(?=[^\n])")
_WRAPPED_LINE = 40
_OPEN_WORDS = frozenset(
    {"do", "od", "z", "ze", "w", "we", "na", "o", "i", "oraz", "dnia", "dniu", "nr", "pod", "przy", "za", "po", "ok."}
)


def _soft_break(m: re.Match[str]) -> str:
    text, at = m.string, m.start()
    line_start = text.rfind("\n", 0, at) + 1
    if at - line_start < _WRAPPED_LINE or text[at - 1] in ",:;":
        return "\n"
    following = text[at + 1]
    if following.islower():
        next_line_end = text.find("\n", at + 1)
        first_word = text[at + 1 : next_line_end if next_line_end != -1 else len(text)].split(" ", 1)[0]
        return "\n" if first_word.endswith((".", ":")) else " "
    if following.isdigit():
        last_word = text[max(text.rfind(" ", 0, at) + 1, line_start) : at]
        return " " if last_word.lower() in _OPEN_WORDS else "\n"
    return "\n"


def html_to_text(html: str) -> str:
    with parsed_html(html) as soup:
        return soup_to_text(soup)


def paragraphs(text: str) -> list[str]:
    return [p for p in (chunk.strip() for chunk in text.split("\n\n")) if p]


#: A paragraph ending so does not stand alone: a salutation ("Szanowni Państwo,"), a sentence
#: announcing a list ("Celem FORUM było:"), an item of that list ("…w regionie;").
_CONTINUED = (",", ":", ";")
#: A lead shorter than this says nothing yet ("Szanowni Państwo,", "Celem FORUM było:").
_SHORT_LEAD = 100


def lead_of(text: str, limit: int = 500) -> str | None:
    """The first paragraph, cut at a word boundary: the same rule whatever the crawl strategy.

    A first paragraph that does not stand alone (`_CONTINUED`) goes on with the lines it opens
    (the next paragraphs, line by line: a list's items): with the next one when it is short, and
    with each next one that fits whole after a longer one (a lead cut inside the address it
    announces says no more than one ending at "na adres:")."""
    paras = paragraphs(text)
    if not paras:
        return None
    lead = " ".join(paras[0].split())
    following = (" ".join(line.split()) for para in paras[1:] for line in para.split("\n") if line.strip())
    for nxt in following:
        if not lead.endswith(_CONTINUED) or (len(lead) >= _SHORT_LEAD and len(lead) + 1 + len(nxt) > limit):
            break
        lead += " " + nxt
    if len(lead) <= limit:
        return lead
    return lead[:limit].rsplit(" ", 1)[0] + "…"
