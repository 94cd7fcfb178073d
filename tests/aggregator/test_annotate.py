from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from aggregator.annotate import annotate

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
