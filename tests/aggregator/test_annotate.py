from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from aggregator import annotate as annotate_module
from aggregator.annotate import annotate, dating_sight
from aggregator.reparse import reparse
from db.engine import session_scope
from db.migrate import ensure_schema
from db.models import Announcement, CrawlRun, EventDate
from db.store import sync_sources
from scrapers.mirror.server import BackgroundMirror
from scrapers.registry import get_source
from tests.conftest import run_cli

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"


def test_seed_001_dates_and_institutions() -> None:
    seed = SEEDS / "001_ce9c960f66a44bb1.txt"
    if not seed.exists():
        pytest.skip(f"the shared seeds are not beside the repo ({seed})")
    text = seed.read_text(encoding="utf-8")
    result = annotate("Trzecie posiedzenie Regionalnej Grupy Interesariuszy", text,
                      datetime(2024, 2, 26, 10, tzinfo=UTC), datetime(2026, 11, 22, tzinfo=UTC))  # fmt: skip
    spans = {(d.match, d.start_date, d.end_date, d.kind) for d in result.dates}
    assert ("23 lutego 2024 roku", date(2024, 2, 23), None, "point") in spans
    assert ("od 1 marca 2024 roku do 31 sierpnia 2024 roku", date(2024, 3, 1), date(2024, 8, 31), "range") in spans
    keys = {m.entity.key for m in result.mentions}
    assert "mcps" in keys
    for mention in result.mentions:
        source = text if mention.field == "body" else "Trzecie posiedzenie Regionalnej Grupy Interesariuszy"
        assert source[mention.char_start : mention.char_end] == mention.surface


def test_year_less_dates_resolve_against_publication_not_today() -> None:
    result = annotate("Spotkanie", "Spotkanie odbyło się 25 marca br.", datetime(2021, 3, 26, 8, tzinfo=UTC),
                      datetime(2026, 11, 22, tzinfo=UTC))  # fmt: skip
    assert [d.start_date for d in result.dates] == [date(2021, 3, 25)]
    undated = annotate("Spotkanie", "Spotkanie odbyło się 25 marca br.", None, datetime(2025, 1, 5, tzinfo=UTC))
    assert [d.start_date for d in undated.dates] == [date(2025, 3, 25)], "first-seen day when no date"


def test_an_undated_page_of_the_backlog_keeps_only_the_dates_that_carry_their_year() -> None:
    # rops-kielce: no publication date on the page, met by the source's first crawl in 2026
    text = (
        "W poniedziałek, 4 grudnia w Kielcach obradował Regionalny Komitet Rozwoju Ekonomii Społecznej. "
        "Dziś podsumowano rok, a 1-2 grudnia br. odbyły się warsztaty. Kolejne posiedzenie 12 marca 2024 r., "
        "nabór do 15.01.2024."
    )
    result = annotate("Obradował Komitet", text, None, None)
    assert [(d.match, d.start_date, d.end_date) for d in result.dates] == [
        ("12 marca 2024 r.", date(2024, 3, 12), None),
        ("do 15.01.2024", date(2024, 1, 15), None),
    ], "no year of the crawl given to '4 grudnia', 'Dziś' or 'br.'"


def test_first_sight_dates_a_page_only_after_the_sources_first_crawl() -> None:
    first_crawl_end = datetime(2026, 12, 6, 23, 10, tzinfo=UTC)
    assert dating_sight(datetime(2026, 12, 6, 23, 0, tzinfo=UTC), None) is None, "no crawl yet"
    assert dating_sight(datetime(2026, 12, 6, 23, 0, tzinfo=UTC), first_crawl_end) is None, "met by the first one"
    nightly = datetime(2026, 12, 8, 2, 0, tzinfo=UTC)
    assert dating_sight(nightly, first_crawl_end) == nightly


def test_times_become_utc_instants() -> None:
    result = annotate("", "Spotkanie 23 lutego 2021 roku o godz. 12:00", None, datetime(2021, 2, 1, tzinfo=UTC))
    [event] = result.dates
    assert event.start_at == datetime(2021, 2, 23, 11, 0, tzinfo=UTC)
    assert event.granularity == "minute"


def test_dates_of_legal_acts_are_not_event_dates() -> None:
    text = (
        "Konkurs ogłoszono na podstawie art. 3 ust. 3 ustawy z dnia 24 kwietnia 2003 r. o działalności pożytku "
        "publicznego i o wolontariacie oraz uchwały nr 1234/56/24 Zarządu Województwa Mazowieckiego z dnia "
        "5 marca 2024 r. Oferty można składać do 29 marca 2024 r."
    )
    result = annotate("Konkurs", text, datetime(2024, 3, 6, tzinfo=UTC), datetime(2024, 3, 6, tzinfo=UTC))
    assert [(d.match, d.kind) for d in result.dates] == [("do 29 marca 2024 r.", "until")]


def earlier_complete_crawl() -> CrawlRun:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return CrawlRun(run_id="earlier", source_id="rops-kielce", status="ok", started_at=start, finished_at=start,
                    items_new=4)  # fmt: skip


def _undated_event_dates(database_url: str) -> dict[str, date]:
    """The dates found in rops-kielce's announcements without a publication date."""
    with session_scope(database_url) as session:
        rows = session.execute(
            select(EventDate.match, EventDate.start_date)
            .join(Announcement, Announcement.id == EventDate.announcement_id)
            .where(Announcement.source_id == "rops-kielce", Announcement.published_at.is_(None))
        )
        return {match: start for match, start in rows}


@pytest.mark.network
def test_a_first_crawl_gives_undated_pages_no_crawl_year_and_a_later_one_dates_them_by_first_sight(
    tmp_path: Path, mirror: BackgroundMirror
) -> None:
    """rops-kielce prints no publication dates (its feed dates only its newest item); item 62 says "1-2 grudnia
    br." and no year."""
    backlog = f"sqlite:///{tmp_path / 'backlog.db'}"
    assert run_cli("crawl", "rops-kielce", "--mirror", mirror.url, "--db", backlog).returncode == 0
    first = _undated_event_dates(backlog)
    assert first, "the dates that carry their year are kept"
    assert all(re.search(r"\b\d{4}\b", match) for match in first), f"only dates that name their year: {first}"
    # the same pages met by a crawl after a complete one: new on the site since, dated by first sight
    later = f"sqlite:///{tmp_path / 'later.db'}"
    ensure_schema(later)
    with session_scope(later, write=True) as session:
        sync_sources(session, [get_source("rops-kielce")])
        session.add(earlier_complete_crawl())
    started = datetime.now(ZoneInfo("Europe/Warsaw"))  # a year-less date takes the year of the Warsaw day
    assert run_cli("crawl", "rops-kielce", "--mirror", mirror.url, "--db", later).returncode == 0
    assert _undated_event_dates(later)["1-2 grudnia br."] == date(started.year, 12, 1)
    with session_scope(backlog, write=True) as session:  # reparse keeps the crawl's rule
        session.add(earlier_complete_crawl())
    reparse(backlog, ["rops-kielce"])
    assert _undated_event_dates(backlog)["1-2 grudnia br."].year == started.year


def test_a_dates_context_is_cut_between_words() -> None:
    """What `v_event_dates.context` and the story page quote around a date: whole words, an
    ellipsis where the line goes on (a real text of rops-krakow)."""
    text = (
        "Dyrektor Regionalnego Ośrodka Polityki Społecznej w Krakowie oraz Wojewódzkiego Ośrodka Adopcyjnego "
        "zaprasza na spotkanie w dniu 12 marca 2024 r. w sprawie monitoringu Wojewódzkiego Programu Wspierania "
        "Rodziny i Systemu Pieczy Zastępczej na lata 2021-2025."
    )
    [found] = [d for d in annotate("Spotkanie", text, datetime(2024, 3, 1, tzinfo=UTC), None).dates
               if d.match.startswith("12 marca")]  # fmt: skip
    assert found.context.startswith("…") and found.context.endswith("…")
    inner = found.context.strip("…")
    assert "12 marca 2024 r." in inner and len(inner) <= 2 * 80 + len(found.match)
    assert inner in text and all(word in text.split() for word in inner.split()), "no word cut"


_LEGAL_PIECES = ["ustawy", "USTAWY", "uſtawy", "uchwały nr 12/2024", "Zarządu", "z", "Z", "dnia", "DNİA", "dnıa", "dn.",
                 "DN.", " ", "  ", "\n", "\t", "\xa0", ".", ";", ":", "5 marca 2024 r.", "x"]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_LEGAL_PIECES), max_size=25).map("".join))
def test_legal_act_check_is_the_pattern_before_each_position(text: str) -> None:
    """`_names_a_legal_act` tries the pattern only where the text before ends as it must: it must
    say what the pattern says before every position, odd letters the case-blind match takes included."""
    for start in range(len(text) + 1):
        expected = annotate_module._LEGAL_ACT_BEFORE.search(text, max(0, start - 160), start) is not None
        assert annotate_module._names_a_legal_act(text, start) == expected, (text, start)
