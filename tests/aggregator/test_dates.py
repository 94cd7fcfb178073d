"""Tests of the Polish date layer: the evaluation gate, the forms of DESIGN.md §3, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from aggregator.commands.dates import register
from aggregator.dates import DateSpan, find_dates, parse_date, span_to_json, to_utc

EVAL_PATH = Path(__file__).parent / "data" / "dates_eval.jsonl"

# Share of the evaluation set that must be exactly right (every (start, end) pair of an item).
# Like trafilatura's benchmark floors, this can only be raised, never lowered.
ACCURACY_FLOOR = 0.97


def _items() -> list[dict[str, Any]]:
    with EVAL_PATH.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _pairs(text: str, reference: str | date | None = None) -> list[tuple[str, str | None]]:
    ref = date.fromisoformat(reference) if isinstance(reference, str) else reference
    return [(j["start"], j["end"]) for j in map(span_to_json, find_dates(text, ref))]


# --------------------------------------------------------------------------------------------
# The evaluation gate
# --------------------------------------------------------------------------------------------


def test_evaluation_set_is_large_real_and_well_formed() -> None:
    items = _items()
    assert len(items) >= 200
    assert sum(1 for i in items if not i["expected"]) >= 30, "negative cases (no date) must be present"
    for item in items:
        assert set(item) == {"text", "reference", "expected", "origin"}
        date.fromisoformat(item["reference"])
        assert item["origin"]
        for exp in item["expected"]:
            assert set(exp) == {"match", "start", "end"}


def test_accuracy_on_evaluation_set_is_above_floor() -> None:
    items = _items()
    wrong = [
        (item["text"], item["expected"], _pairs(item["text"], item["reference"]))
        for item in items
        if _pairs(item["text"], item["reference"]) != [(e["start"], e["end"]) for e in item["expected"]]
    ]
    accuracy = 1 - len(wrong) / len(items)
    assert accuracy >= ACCURACY_FLOOR, f"accuracy {accuracy:.3f} < {ACCURACY_FLOOR}; first misses: {wrong[:5]}"


def test_every_expected_match_parses_alone_to_its_value() -> None:
    """The ``match`` of a span is self-contained: parsing it alone gives the same value."""
    for item in _items():
        for exp in item["expected"]:
            span = parse_date(exp["match"], date.fromisoformat(item["reference"]))
            assert span is not None, exp
            assert (span_to_json(span)["start"], span_to_json(span)["end"]) == (exp["start"], exp["end"])


# --------------------------------------------------------------------------------------------
# Forms from DESIGN.md §3 and issue 4
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("W dniu 08.06.2018 r. w Warszawie", None, [("2018-06-08", None)]),
        ("2.03.2020", None, [("2020-03-02", None)]),
        ("2021-02-03 12:13", None, [("2021-02-03T12:13", None)]),
        ("15.IV.2019", None, [("2019-04-15", None)]),
        ("2018.10.25", None, [("2018-10-25", None)]),
        ("23 lutego 2024 roku", None, [("2024-02-23", None)]),
        ("13 grudzień 2019 13:25", None, [("2019-12-13T13:25", None)]),
        ("15 lut. 2023", None, [("2023-02-15", None)]),
        ("13 GRUDNIA 2019", None, [("2019-12-13", None)]),
        ("w środę, 11 grudnia 2019 r.", None, [("2019-12-11", None)]),
        ("we wrześniu 2018 roku", None, [("2018-09-01", "2018-09-30")]),
        ("odbędzie się 23 lutego 2021 roku o godz. 12:00", None, [("2021-02-23T12:00", None)]),
        ("15 lut. 2023 godz. 10.00–14.00", None, [("2023-02-15T10:00", "2023-02-15T14:00")]),
        ("w dniach 19-20.05.2022 r.", None, [("2022-05-19", "2022-05-20")]),
        ("od 1 marca 2024 roku do 31 sierpnia 2024 roku", None, [("2024-03-01", "2024-08-31")]),
        ("od 1 marca do 31 sierpnia 2024 roku", None, [("2024-03-01", "2024-08-31")]),
        ("12 i 13 października", "2021-09-01", [("2021-10-12", "2021-10-13")]),
        ("5 i 19 maja 2022 r.", None, [("2022-05-05", None), ("2022-05-19", None)]),
        ("w dniach 6 do 8 czerwca br.", "2023-05-01", [("2023-06-06", "2023-06-08")]),
        ("od 28 grudnia do 3 stycznia 2024 r.", None, [("2023-12-28", "2024-01-03")]),
        ("I kwartał 2024", None, [("2024-01-01", "2024-03-31")]),
        ("w IV kwartale 2015 r.", None, [("2015-10-01", "2015-12-31")]),
        ("I półrocze 2020 r.", None, [("2020-01-01", "2020-06-30")]),
        ("do końca marca", "2022-02-01", [("2022-03-31", None)]),
        ("25 marca br.", "2020-03-30", [("2020-03-25", None)]),
        ("25 marca b.r.", "2020-03-30", [("2020-03-25", None)]),
        ("w grudniu bieżącego roku", "2023-11-20", [("2023-12-01", "2023-12-31")]),
        ("w grudniu ubiegłego roku", "2023-02-01", [("2022-12-01", "2022-12-31")]),
        ("Ogłoszenie postępowania: 23.06.2025Zarząd", None, [("2025-06-23", None)]),
        ("Dodana: 8 luty 2021 12:31", None, [("2021-02-08T12:31", None)]),
        ("na lata 2014-2020", None, [("2014-01-01", "2020-12-31")]),
        ("W okresie 03/2020 – 12/2020", None, [("2020-03-01", "2020-12-31")]),
    ],
)
def test_design_forms(text: str, reference: str | None, expected: list[tuple[str, str | None]]) -> None:
    assert _pairs(text, reference) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nabór trwa od 3 do 7 czerwca 2024 r.", ("od 3 do 7 czerwca 2024 r.", date(2024, 6, 3), date(2024, 6, 7))),
        ("Wnioski od 1 do 15 maja br.", ("od 1 do 15 maja br.", date(2024, 5, 1), date(2024, 5, 15))),
        ("Zgłoszenia od 1 do 15.05.2024 r.", ("od 1 do 15.05.2024 r.", date(2024, 5, 1), date(2024, 5, 15))),
        ("od dnia 1 do 15.05.2024", ("od dnia 1 do 15.05.2024", date(2024, 5, 1), date(2024, 5, 15))),
    ],
)
def test_od_day_do_day_month_is_a_range_with_its_deadline(text: str, expected: tuple[str, date, date]) -> None:
    """ "od 3 do 7 czerwca": both days are in the one expression; the "od" in front made it an
    open-ended `from` that lost its end (the deadline an analyst filters on)."""
    (span,) = find_dates(text, date(2024, 4, 20))
    assert (span.match, span.start, span.end, span.kind) == (*expected, "range")


def test_a_weekday_in_brackets_between_the_ends_keeps_the_range() -> None:
    """The demo's mcps-es consultation: a `from` and an `until` row instead of one period."""
    text = "Konsultacje będą trwały od 15.10.2018 r. (poniedziałek) do 29.10.2018 r. (poniedziałek)."
    (span,) = find_dates(text, date(2018, 10, 1))
    assert (span.start, span.end, span.kind) == (date(2018, 10, 15), date(2018, 10, 29), "range")


@pytest.mark.parametrize(
    "text",
    [
        "Nabór trwa od 1 do 15 maja 2024 do godz. 15:00.",
        "Nabór trwa od 1 maja 2024 r. do 15 maja 2024 r. do godz. 15:00.",
        "Wnioski przyjmujemy od 1.05.2024 do 15.05.2024 do godz. 15:00",
        "Wnioski przyjmujemy od 1 do 15.05.2024 r. do godz. 15:00",
    ],
)
def test_an_hour_after_do_closes_a_range_of_days(text: str) -> None:
    """ "do godz. 15:00" is the deadline's hour: the first day stays a day, however the range is
    written (one expression "od 1 do 15 maja" put 15:00 on both ends, a minute-granular range)."""
    (span,) = find_dates(text, date(2024, 4, 20))
    assert (span.start, span.end, span.granularity, span.kind) == (
        date(2024, 5, 1), datetime(2024, 5, 15, 15, 0), "day", "range")  # fmt: skip


def test_an_hour_without_do_is_each_days_hour() -> None:
    """ "19-20.05.2022, godz. 10:00": an event on both days at ten; no "do", no deadline."""
    (span,) = find_dates("Szkolenie 19-20.05.2022, godz. 10:00", date(2022, 5, 1))
    assert (span.start, span.end, span.granularity) == (datetime(2022, 5, 19, 10), datetime(2022, 5, 20, 10), "minute")


@pytest.mark.parametrize(
    ("text", "match", "deadline"),
    [
        ("dla 20 do 25.05.2024", "do 25.05.2024", date(2024, 5, 25)),
        ("1 do 15.05.2024", "do 15.05.2024", date(2024, 5, 15)),
    ],
)
def test_a_day_before_do_opens_a_numeric_range_only_after_od(text: str, match: str, deadline: date) -> None:
    """A count or a number before "do 25.05.2024" is no first day: the deadline stays a deadline."""
    (span,) = find_dates(text, date(2024, 4, 20))
    assert (span.match, span.start, span.end, span.kind) == (match, deadline, None, "until")


@pytest.mark.parametrize(
    "text",
    [
        "ul. 3 Maja",
        "z siedzibą w Wejherowie przy ul. 3 Maja 4",
        "Święto Konstytucji 3 Maja",
        "al. 1 Maja 14",
        "Dz. U. z 2020 r. poz. 374",
        "(Dz.U. z 2011 r. Nr 127, poz. 721 z późn. zm.)",
        "tel. 89 521 95 52",
        "Numer telefonu: 67 282 08 93",
        "kwota 5.000.000 zł, w tym 390.147,50 zł",
        "Nr 2/2016, s. 48–59",
        "polecenie nr 10/2020",
        "maj",
        "W maju",
        "Wystąpili Maja Banicka i Jakub Fiołek.",
        "Data naboru może się jeszcze zmienić",
        "Nie kopiuj!!!",
        "RPO 2021-2027",
        "Działanie 7.3 Wzmocnienie",
        "od 60,06 tys. do 63,624 tys. PLN",
        "godz. 10.00–14.00",
        "",
    ],
)
def test_guards_find_no_date(text: str) -> None:
    assert find_dates(text, date(2024, 1, 1)) == []


def test_relative_words_resolve_against_reference() -> None:
    ref = date(2024, 3, 31)
    assert _pairs("wczoraj", ref) == [("2024-03-30", None)]
    assert _pairs("dzisiaj", ref) == [("2024-03-31", None)]
    assert _pairs("3 dni temu", ref) == [("2024-03-28", None)]
    assert _pairs("dwa dni temu", ref) == [("2024-03-29", None)]
    assert _pairs("w zeszłym tygodniu", ref) == [("2024-03-24", None)]
    assert _pairs("w ubiegłym tygodniu", ref) == [("2024-03-24", None)]
    assert _pairs("miesiąc temu", ref) == [("2024-02-29", None)]


def test_explicit_date_wins_over_a_widget_today() -> None:
    assert _pairs("Dzisiaj jest: Wtorek 29 Sierpnia 2017", date(2024, 1, 1)) == [("2017-08-29", None)]


def test_weekday_picks_the_year_of_a_yearless_date() -> None:
    # 4 December was a Monday in 2023, not in 2024: a January 2024 page means last December.
    assert _pairs("W poniedziałek, 4 grudnia", date(2024, 1, 10)) == [("2023-12-04", None)]


def test_kinds_and_granularity() -> None:
    (until,) = find_dates("do 15 lipca 2022 r.", date(2022, 7, 1))
    (since,) = find_dates("od 1 maja 2004 r.", date(2022, 7, 1))
    (month,) = find_dates("we wrześniu 2018 roku", date(2022, 7, 1))
    (deadline,) = find_dates("do końca września 2017 roku", date(2022, 7, 1))
    assert (until.kind, until.start, until.end) == ("until", date(2022, 7, 15), None)
    assert (since.kind, since.start, since.end) == ("from", date(2004, 5, 1), None)
    assert (month.kind, month.granularity) == ("range", "month")
    assert (deadline.kind, deadline.start, deadline.granularity) == ("until", date(2017, 9, 30), "month")
    assert until.match == "do 15 lipca 2022 r."


def test_spans_are_ordered_and_point_into_the_text() -> None:
    text = "Nabór od 26.10.2022 do 15.11.2022 23:59, wyniki 30 listopada br., umowy w I kwartale 2023 r."
    spans = find_dates(text, date(2022, 10, 20))
    assert [s.char_start for s in spans] == sorted(s.char_start for s in spans)
    for span in spans:
        assert text[span.char_start : span.char_end] == span.match
    assert [(s.granularity, s.kind) for s in spans] == [("day", "range"), ("day", "point"), ("quarter", "range")]


def test_reference_defaults_to_today() -> None:
    (span,) = find_dates("25 marca br.")
    assert span.start == date(date.today().year, 3, 25)


# --------------------------------------------------------------------------------------------
# parse_date, to_utc, span_to_json
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start"),
    [
        ("Data dodania: 2024-05-14 13:36", datetime(2024, 5, 14, 13, 36)),
        ("Dodana: 8 luty 2021 12:31 / Zmodyfikowana: 9 luty 2021 10:00", datetime(2021, 2, 8, 12, 31)),
        ("Opublikowano: 12 stycznia 2023", date(2023, 1, 12)),
        ("2019-04-01", date(2019, 4, 1)),
        ("20.06.2018", date(2018, 6, 20)),
        ("Opublikowano: 25/06/2012", date(2012, 6, 25)),
    ],
)
def test_parse_date_fields(text: str, start: date) -> None:
    span = parse_date(text)
    assert span is not None
    assert span.start == start


NOMINATIVE_MONTHS = ("styczeń", "luty", "marzec", "kwiecień", "maj", "czerwiec", "lipiec", "sierpień", "wrzesień",
                     "październik", "listopad", "grudzień")  # fmt: skip


@pytest.mark.parametrize("month", range(1, 13))
def test_parse_date_reads_the_nominative_month_of_a_wrotapodlasia_date_line(month: int) -> None:
    """wrotapodlasia.pl prints 'Dodana: 6 wrzesień 2019 12:17' (the month in the nominative, a CMS
    quirk): every month's nominative form, with and without its diacritics, is that day and minute."""
    name = NOMINATIVE_MONTHS[month - 1]
    folded = name.translate(str.maketrans("ńźś", "nzs"))
    for form in dict.fromkeys((name, folded)):
        span = parse_date(f"Dodana: 6 {form} 2019 12:17\n\nZmodyfikowana: 9 {form} 2019 08:05")
        assert span is not None and span.granularity == "minute", form
        assert span.start == datetime(2019, month, 6, 12, 17), form


def test_parse_date_iso_with_offset_is_aware() -> None:
    span = parse_date("2024-05-14T13:36:00+02:00")
    assert span is not None
    assert span.start == datetime(2024, 5, 14, 13, 36, tzinfo=timezone(timedelta(hours=2)))
    assert to_utc(span.start) == datetime(2024, 5, 14, 11, 36, tzinfo=UTC)
    assert span_to_json(span)["start"] == "2024-05-14T13:36"
    zulu = parse_date("2024-01-14T11:36:00Z")
    assert zulu is not None and span_to_json(zulu)["start"] == "2024-01-14T12:36"


def test_parse_date_without_a_date() -> None:
    assert parse_date("Data opublikowania:") is None


def test_to_utc_uses_warsaw_wall_time() -> None:
    assert to_utc(datetime(2024, 5, 14, 13, 36)) == datetime(2024, 5, 14, 11, 36, tzinfo=UTC)  # CEST
    assert to_utc(datetime(2024, 1, 14, 13, 36)) == datetime(2024, 1, 14, 12, 36, tzinfo=UTC)  # CET
    assert to_utc(date(2024, 1, 14)) == datetime(2024, 1, 13, 23, 0, tzinfo=UTC)
    assert to_utc(datetime(2024, 1, 14, 12, 0), tz="UTC") == datetime(2024, 1, 14, 12, 0, tzinfo=UTC)


def test_span_to_json_contract_shape() -> None:
    span = DateSpan("x", 0, 1, date(2024, 3, 1), datetime(2024, 8, 31, 23, 59), "day", "range")
    assert span_to_json(span) == {
        "match": "x",
        "start": "2024-03-01",
        "end": "2024-08-31T23:59",
        "granularity": "day",
        "kind": "range",
    }


# --------------------------------------------------------------------------------------------
# CLI: ropsfeed dates
# --------------------------------------------------------------------------------------------


@pytest.fixture
def app() -> typer.Typer:
    application = typer.Typer()
    register(application)

    @application.command("noop")
    def noop() -> None:  # a second command keeps Typer from collapsing into a single-command app
        """Unused."""

    return application


def test_cli_single_text(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["dates", "Spotkanie 25 marca br. w Łodzi", "--reference", "2020-03-30"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["text"] == "Spotkanie 25 marca br. w Łodzi"
    assert [(d["match"], d["start"], d["end"]) for d in payload["dates"]] == [("25 marca br.", "2020-03-25", None)]
    assert "Łodzi" in result.output  # ensure_ascii=False


def test_cli_bad_reference_is_a_usage_error(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["dates", "25 marca br.", "--reference", "marzec"])
    assert result.exit_code != 0


def test_cli_jsonl_one_line_per_input_line_in_order(app: typer.Typer) -> None:
    lines = [
        json.dumps({"text": "od 1 marca 2024 roku do 31 sierpnia 2024 roku", "reference": "2024-02-26"}),
        "{not json",
        json.dumps({"text": "25 marca br.", "reference": "2020-03-30"}),
        json.dumps({"text": "25 marca br.", "reference": "30.03.2020"}),
        json.dumps(["a list"]),
        "",
        json.dumps({"text": "wczoraj", "reference": "2024-01-01"}),
        json.dumps({"text": "ul. 3 Maja"}),
    ]
    result = CliRunner().invoke(app, ["dates", "--jsonl"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert len(out) == len(lines)
    assert [(d["start"], d["end"]) for d in out[0]["dates"]] == [("2024-03-01", "2024-08-31")]
    assert "error" in out[1] and "dates" in out[1]
    assert out[2]["dates"][0]["start"] == "2020-03-25"
    assert "error" in out[3] and out[3]["text"] == "25 marca br."
    assert "error" in out[4]
    assert "error" in out[5]
    assert out[6]["dates"][0]["start"] == "2023-12-31"
    assert out[7] == {"text": "ul. 3 Maja", "dates": []}


def test_cli_without_text_or_jsonl_fails(app: typer.Typer) -> None:
    assert CliRunner().invoke(app, ["dates"]).exit_code != 0


def test_a_text_read_again_against_the_same_day_gives_the_same_spans_in_a_list_of_its_own() -> None:
    """annotate and the story features read an announcement's texts twice: the second read is
    the first's spans (kept for the few texts just read), in a new list each caller may change."""
    text = "Nabór trwa od 3 marca do 14 marca 2024 r.; spotkanie 20 maja, godz. 10:00."
    first = find_dates(text, date(2024, 2, 1))
    first.clear()
    again = find_dates(text, date(2024, 2, 1))
    assert [(s.match, s.start, s.end) for s in again] == [
        (s.match, s.start, s.end) for s in find_dates(text + " ", date(2024, 2, 1))
    ]
    assert again and again is not find_dates(text, date(2024, 2, 1))
    other_day = find_dates(text, date(2023, 2, 1))  # the year-less "20 maja" resolves against the day
    assert {s.start for s in other_day} != {s.start for s in again}
