"""Pages served with HTTP 200 that are not the page asked for: a CMS's "not found" page in the
site's layout (a "soft 404"), a maintenance notice, a cookie wall.

Stored, such a page replaces the announcement's text with the notice, and a new page so stored is
never fetched again by an incremental crawl: each is a problem of the page (`ParsedArticle.problems`),
which keeps the raw page, raises an alarm and asks for the page again in the next crawl.

Every rule holds only for a short text (`MAX_BODY`), as such pages have, and each is anchored so
that a real announcement about something "not found" (a contractor, a candidate) or about a
maintenance break of some system ("Przerwa techniczna w systemie SEPI") stays one:

- the title starts with a "not found" message ("Błąd 404", "Strona nie została znaleziona");
- the title is a maintenance or cookie notice and nothing else ("Trwa przerwa techniczna");
- a sentence of the text is a "not found" message (a template that keeps its heading, or prints
  the site's name there, and says it in the text: "Przepraszamy, strona o podanym adresie nie
  istnieje.");
- the text opens with a cookie notice ("Ta strona używa plików cookies…"): the page's content
  withheld until consent is given.
"""

from __future__ import annotations

import re

MAX_BODY = 400

_NOT_FOUND = (
    r"(ta |podana |żądana |wybrana |szukana )?(strona|podstrona|artykuł|pozycja|treść)( o podanym adresie)? nie "
    r"(została |zostało |został )?(znaleziona|znaleziony|znalezione|odnaleziona|odnaleziony|istnieje)"
    r"|nie (znaleziono|odnaleziono) (strony|artykułu|pozycji|podanej strony|żądanej strony|szukanej strony)"
)
#: Titles that start as a CMS's error page does; the rest may be anything ("404 – ROPS", "Błąd 404:
#: nie znaleziono").
ERROR_TITLE = re.compile(rf"(?i)(błąd\s*404|error\s*404|404\s*([-–:|]|$)|page not found|not found|{_NOT_FOUND})")
#: Titles that are a notice as a whole (trailing punctuation aside): an announcement about a
#: maintenance break says of what, and then is not one of these.
NOTICE_TITLE = re.compile(
    r"(?i)((trwa |trwają )?(przerwa techniczna|prace (techniczne|konserwacyjne|serwisowe))"
    r"|(strona|serwis|witryna) (jest )?(w budowie|w przebudowie|(chwilowo |tymczasowo )?niedostępn[ya])"
    r"|service (temporarily )?unavailable|maintenance( mode)?|under maintenance"
    r"|(ta strona|strona|serwis|witryna) (używa|wykorzystuje|korzysta z) (plików )?(cookies?|ciasteczek)"
    r"|(pliki |polityka |zgoda na (pliki )?|ustawienia )?(cookies?|ciasteczka)|prywatność i (pliki )?cookies?)"
    r"[\s.!…]*"
)
#: A sentence of the text that is a "not found" message (from the text's start or a sentence's).
ERROR_SENTENCE = re.compile(rf"(?i)(?:^|[.!?…]\s+|\n)\s*(przepraszamy[,.!]?\s*|ups[,.!]*\s*)?({_NOT_FOUND})")
#: A text that opens with a cookie notice.
COOKIE_TEXT = re.compile(
    r"(?i)\s*((ta |nasza )?(strona|serwis|witryna)( internetowa)? (używa|wykorzystuje|korzysta z|stosuje) "
    r"(plików )?(cookies?|ciasteczek)|korzystając z (serwisu|tej strony|naszej strony|witryny),? wyrażasz zgodę"
    r"|używamy (plików )?(cookies?|ciasteczek))"
)


def soft_error(title: str | None, body_text: str) -> str | None:
    """What shows that a page is a notice instead of its announcement (the title, or the text's
    start, cut for the alarm), or None for a page that may be an announcement."""
    if len(body_text) >= MAX_BODY:
        return None
    title = (title or "").strip()
    if title and (ERROR_TITLE.match(title) or NOTICE_TITLE.fullmatch(title)):
        return title[:80]
    if ERROR_SENTENCE.search(body_text) or COOKIE_TEXT.match(body_text):
        return " ".join(body_text.split())[:80]
    return None
