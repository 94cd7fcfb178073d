from __future__ import annotations

import html

import pytest
from bs4 import BeautifulSoup
from hypothesis import given, settings
from hypothesis import strategies as st

from scrapers.extraction.text import clean_line
from scrapers.spiders.wordpress import plain

#: Polish letters, the spaces and invisible characters clean_line deals with, punctuation and
#: the characters the HTML parser treats specially (markup, entities, line breaks, controls).
CHARACTERS = "aąćęłńóśźżAĄŁŻ 0123456789\t\u00a0\u200b\ufeff\u2028\u0085\ufffe\u3000\u202f\u0301-–„”'\";:/?!()#%"
SPECIAL = [
    "\U0001f600",
    "\x7f",
    "\x01",
    "\r\n",
    "\n",
    "<b>",
    "</b>",
    "<br/>",
    "&amp;",
    "&amp;amp;",
    "&amp;lt;b&amp;gt;",
    "&#8211;",
    "&lt;",
    "&nbsp;",
    "<",
]
PIECES = st.sampled_from([*CHARACTERS, *SPECIAL])


def parsed(rendered: str) -> str:
    """What plain() always did: unescape, parse, take the text."""
    return clean_line(BeautifulSoup(html.unescape(rendered), "lxml").get_text(" "))


# a generated text like "a.pdf" is text here, not a file name (the crawl silences the same warning)
@pytest.mark.filterwarnings("ignore::bs4.MarkupResemblesLocatorWarning")
@settings(max_examples=3000, deadline=None)
@given(st.one_of(st.text(), st.lists(PIECES, max_size=30).map("".join)))
def test_plain_gives_what_parsing_the_rendered_html_gives(rendered: str) -> None:
    assert plain(rendered) == parsed(rendered)


def test_plain_reads_real_titles_and_markup() -> None:
    assert plain("Nab&oacute;r wniosk&oacute;w &#8211; &#8222;Lider Ekonomii Spo&#322;ecznej&#8221;") == (
        "Nabór wniosków – „Lider Ekonomii Społecznej”"
    )
    assert plain("<strong>Konkurs</strong> dla PES &amp; OWES") == "Konkurs dla PES & OWES"
    assert plain("") == ""
