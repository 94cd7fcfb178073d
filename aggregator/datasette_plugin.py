"""Datasette plugin (entry point `datasette: ropsfeed`): the search of `ropsfeed feed --query` in SQL.

metadata.yml's canned query `search` handed the words straight to FTS5 with only `ł` folded: a
hyphenated word ("Warmińsko-Mazurskiego", "MCPS-u") or an apostrophe was an FTS5 syntax error
(HTTP 400), and "ekonomia społeczna" found 19 demo announcements where `feed --query` finds 59,
since FTS5 knows no Polish inflection and the query's own lemmas were never looked up. The function
`ropsfeed_match(text)` gives FTS5 the expression the feed, the export and the web page use
(db.search: folded words, prefixes, lemmas, diacritics restored), so the canned query finds what
they find. Datasette loads it when ropsfeed is installed next to it (`make analyse` runs the
project's own); without it the canned query says "no such function: ropsfeed_match".
"""

from __future__ import annotations

import sqlite3

from datasette import hookimpl

#: What the query form opened without words (or only "?!") matches: nothing, and no error page.
#: An empty phrase; NULL or '' would be an FTS5 syntax error.
NO_WORDS = '""'


def ropsfeed_match(query: str | None) -> str:
    """The FTS5 MATCH expression of a user's words (see NO_WORDS when they hold none)."""
    from db.search import fts5_match, parse_query

    try:
        return fts5_match(parse_query(query or ""))
    except ValueError:
        return NO_WORDS


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("ropsfeed_match", 1, ropsfeed_match, deterministic=True)
