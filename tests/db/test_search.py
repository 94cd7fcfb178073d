"""Full-text search for Polish: folding (ł too), prefixes, lemmas; the same rows on SQLite and
PostgreSQL; the index follows inserts, edits, deletes and the migration's backfill."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text

from aggregator.feeds import FeedFilters, select_entries
from db import search
from db.engine import get_engine, session_scope
from db.migrate import alembic_config, upgrade
from db.models import Announcement
from db.search import fold, fts5_match, index_terms, parse_query, search_condition, search_fields, tsquery
from db.store import save_announcements, sync_sources
from scrapers.items import AnnouncementItem
from scrapers.registry import load_sources

TEXTS = {
    "nabor": ("Nabór do projektu", "Rusza nabór wniosków dla organizacji pozarządowych."),
    "spoldzielnia": ("Dzień otwarty", "Zapraszamy do Spółdzielni Socjalnej „Razem” w Łodzi."),
    "spoldzielnie": ("Wizyty studyjne", "Pracownicy spółdzielniach socjalnych dzielili się doświadczeniem."),
    "naborowy": ("Harmonogram", "Plan naborowy na rok 2024 w województwie łódzkim."),
    "inne": ("Konferencja", "Konferencja o ekonomii społecznej i włączeniu."),
}
URL = "https://mcps.com.pl/{}/"


def item(key: str, title: str, body: str) -> AnnouncementItem:
    return AnnouncementItem(source_id="mcps", url=URL.format(key), title=title, body_html=f"<p>{body}</p>",
                            body_text=body, published_at=datetime(2024, 5, 1, 10, tzinfo=UTC))  # fmt: skip


@pytest.fixture
def database(database: str) -> str:
    """The shared migrated database with the sources (tests/conftest.py), plus `TEXTS`."""
    with session_scope(database, write=True) as session:
        save_announcements(session, [item(k, *t) for k, t in TEXTS.items()])
    return database


def found(database: str, query: str) -> set[str]:
    with session_scope(database) as session:
        dialect = session.get_bind().dialect.name
        urls = session.scalars(
            select(Announcement.url).where(search_condition(dialect, Announcement.id, Announcement.search_terms, query))
        )
        return {url.split("/")[-2] for url in urls}


QUERIES = {
    "nabor": {"nabor", "naborowy"},  # no diacritics typed, prefix: Nabór, nabór, naborowy
    "NABÓR": {"nabor", "naborowy"},
    "spoldzielnia": {"spoldzielnia", "spoldzielnie"},  # the lemma of "Spółdzielni" and "spółdzielniach"
    "spółdzielnia": {"spoldzielnia", "spoldzielnie"},
    "Spółdzielni": {"spoldzielnia", "spoldzielnie"},  # prefix of the form or the same lemma
    "spółdzielniach socjalnych": {"spoldzielnia", "spoldzielnie"},  # any form of both lemmas
    "pracownik spółdzielni": {"spoldzielnie"},  # "Pracownicy" by its lemma
    "lodz": {"spoldzielnia", "naborowy"},  # ł folded: "Łodzi", "łódzkim"
    "lodzi": {"spoldzielnia"},
    "łódzkim": {"naborowy"},
    "wlaczeniu ekonomii": {"inne"},
    "nabór konferencja": set(),  # every word must match
    "2024": {"naborowy"},
    "Razem": {"spoldzielnia"},  # inside „…” quotes
    "xyzzy": set(),
    # typed without diacritics and inflected otherwise than the text: the word's Polish spellings'
    # lemmas ("spoleczna" → społeczna → społeczny, "lodzkie" → łódzkie → łódzki)
    "ekonomia spoleczna": {"inne"},
    "spoldzielniach socjalnych": {"spoldzielnia", "spoldzielnie"},
    "lodzkie": {"naborowy"},
    "Wlaczenie": {"inne"},
}


@pytest.mark.parametrize(("query", "expected"), QUERIES.items())
def test_polish_queries_find_the_same_rows_on_both_backends(database: str, query: str, expected: set[str]) -> None:
    assert found(database, query) == expected


def test_the_feed_uses_the_index(database: str) -> None:
    with session_scope(database) as session:
        entries = select_entries(session, FeedFilters(query="spoldzielnia"))
    assert {e.url for e in entries} == {URL.format("spoldzielnia"), URL.format("spoldzielnie")}


def test_edits_and_deletes_keep_the_index_in_sync(database: str) -> None:
    with session_scope(database, write=True) as session:
        save_announcements(session, [item("nabor", "Konkurs ofert", "Ogłaszamy konkurs grantowy.")])
    assert found(database, "nabor") == {"naborowy"}
    assert found(database, "grantowy") == {"nabor"}
    with session_scope(database, write=True) as session:
        session.execute(delete(Announcement).where(Announcement.url == URL.format("naborowy")))
    assert found(database, "nabor") == set()
    assert found(database, "konferencja") == {"inne"}


def test_the_migration_backfills_existing_rows(db_url: str) -> None:
    """Rows written before 0006 (no search terms) are searchable right after the upgrade."""
    engine = get_engine(db_url)
    with engine.begin() as connection:
        config = alembic_config(db_url)
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
    with session_scope(db_url, write=True) as session:
        sync_sources(session, load_sources())
        session.execute(
            text(
                "INSERT INTO announcements (source_id, url, title, body_text, body_html, categories, language,"
                " content_hash, search_text, first_seen_at, last_seen_at, updated_at) VALUES ('mcps', :url,"
                " 'Nabór', 'Spółdzielni Socjalnej', '', '[]', 'pl', 'x', '', :now, :now, :now)"
            ),
            {"url": URL.format("old"), "now": datetime(2024, 1, 1)},
        )
    upgrade(db_url)
    assert found(db_url, "spoldzielnia nabor") == {"old"}


def test_sqlite_triggers_exist_at_head(sqlite_url: str) -> None:
    """A later batch migration of `announcements` would drop them silently (see migration 0006)."""
    upgrade(sqlite_url)
    with get_engine(sqlite_url).connect() as connection:
        triggers = set(connection.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert {"announcements_fts_ai", "announcements_fts_ad", "announcements_fts_au"} <= triggers


def test_terms_and_query_syntax() -> None:
    assert index_terms("Nabór w Spółdzielni", None, "nabór") == "nabor w spoldzielni spoldzielnia"
    assert [(w.prefix, w.lemmas) for w in parse_query("Spółdzielniach, MCPS-u!")] == [
        ("spoldzielniach", ("spoldzielnia",)),
        ("mcps", ()),
        ("u", ()),
    ]
    words = parse_query("nabór spółdzielni")
    assert fts5_match(words) == '"nabor"* AND ("spoldzielni"* OR "spoldzielnia")'
    assert tsquery(words) == "nabor:* & (spoldzielni:* | spoldzielnia)"
    with pytest.raises(ValueError, match="no words"):
        parse_query(" „” !? ")
    with pytest.raises(ValueError, match="no words"):
        FeedFilters(query="--")
    # a word typed without its diacritics gets the lemmas of its Polish spellings
    assert [(w.prefix, w.lemmas) for w in parse_query("spoleczne Lodzkie")] == [
        ("spoleczne", ("spoleczny",)),
        ("lodzkie", ("lodzki",)),
    ]
    assert [(w.prefix, w.lemmas) for w in parse_query("nabor wnioski")] == [("nabor", ()), ("wnioski", ("wniosek",))]
    assert parse_query("zazolcgeslajazn" * 3)[0].lemmas == (), "too many spellings to try: the word as typed"


_SEARCH_PIECES = ("Nabór", "w", "Spółdzielni", "ŁÓDŹ", "x²", "MCPS-u", "2024", "r.", "„Razem”", " ", "  ", "\n", "\t",
                  "\xa0", "\u2028", "¨", "\u0301", "ΑΣ", "Σ", "ﬁ", "İ", "_", ",")  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_SEARCH_PIECES), max_size=25), st.sampled_from([None, "", "Nabór w"]))
def test_search_fields_are_those_of_the_whole_text(pieces: list[str], lead: str | None) -> None:
    """search_fields and index_terms work chunk by chunk (the text cut at whitespace, each chunk's
    words and fold memoised): the columns must be those folded and matched over the whole text."""
    body = "".join(pieces)
    whole = " ".join(("Tytuł", lead or "", body))
    words = dict.fromkeys(search._WORD.findall(whole))
    terms = " ".join(dict.fromkeys(term for word in words for term in search._word_terms(word)))
    assert search_fields("Tytuł", lead, body) == (" ".join(fold(whole).split()), terms)
    assert index_terms("Tytuł", lead, body) == terms


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**30), st.integers(min_value=0, max_value=3))
def test_a_number_s_terms_are_what_morfeusz2_reads_in_it(number: int, zeros: int) -> None:
    """`_word_terms` does not ask morfeusz2 about a number (ASCII digits): it reads one as itself."""
    from aggregator.entities.morphology import morfeusz

    word = "0" * zeros + str(number)
    assert [(lemma, tag) for _, _, (_, lemma, tag, *_) in morfeusz().analyse(word)] == [(word, "dig")]
    assert search._word_terms(word) == (word,)
