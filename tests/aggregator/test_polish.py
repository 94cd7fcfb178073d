"""Polish for readers: genitive month names, plural forms, dictionary order."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from aggregator.polish import count_noun, date_span, day, file_label, file_size, sort_key


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, "1 źródło"), (2, "2 źródła"), (4, "4 źródła"), (5, "5 źródeł"), (11, "11 źródeł"), (12, "12 źródeł"),
     (14, "14 źródeł"), (21, "21 źródeł"), (22, "22 źródła"), (25, "25 źródeł"), (104, "104 źródła"),
     (112, "112 źródeł"), (0, "0 źródeł")],
)  # fmt: skip
def test_plural_forms(count: int, expected: str) -> None:
    assert count_noun(count, "źródło", "źródła", "źródeł") == expected


def test_dates_in_polish_and_warsaw_time() -> None:
    assert day(date(2024, 3, 12)) == "12 marca 2024"
    assert day(date(2023, 9, 1)) == "1 września 2023"
    assert day(datetime(2024, 12, 31, 23, 30, tzinfo=UTC), with_time=True) == "1 stycznia 2025, 00:30"
    assert day(datetime(2024, 7, 1, 10, 5, tzinfo=UTC), with_time=True) == "1 lipca 2024, 12:05"
    assert day(None) == ""


def test_periods() -> None:
    assert date_span(date(2024, 4, 15), date(2024, 4, 15), "until") == "do 15 kwietnia 2024"
    assert date_span(date(2024, 4, 1), date(2024, 4, 30), "range") == "1–30 kwietnia 2024"
    assert date_span(date(2024, 3, 30), date(2024, 4, 2), "range") == "30 marca – 2 kwietnia 2024"
    assert date_span(date(2024, 5, 6), None, "from") == "od 6 maja 2024"
    assert date_span(date(2024, 5, 6), None, "point") == "6 maja 2024"


def test_dictionary_order() -> None:
    names = ["śląskie", "łódzkie", "lubuskie", "świętokrzyskie", "małopolskie", "Łomża", "zachodniopomorskie"]
    assert sorted(names, key=sort_key) == [
        "lubuskie", "Łomża", "łódzkie", "małopolskie", "śląskie", "świętokrzyskie", "zachodniopomorskie",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ("245 KB", "245\u00a0kB"),
        ("1.2 MB", "1,2\u00a0MB"),
        ("1,2 MB", "1,2\u00a0MB"),
        ("300kb", "300\u00a0kB"),
        ("1.5 mb", "1,5\u00a0MB"),
        ("2 MiB", "2\u00a0MiB"),
        ("12 bajtów", "12\u00a0bajtów"),
        ("1.234 KB", "1.234 KB"),  # a thousands separator or a decimal point: left as written
        ("ok. 2 MB", "ok. 2 MB"),
        (None, None),
    ],
)
def test_file_sizes_in_polish(size: str | None, expected: str | None) -> None:
    """The story page showed a size as the site wrote it: "1.2 MB" with an English decimal point."""
    assert file_size(size) == expected


def test_file_labels() -> None:
    assert file_label("pdf", "1.2 MB") == "PDF, 1,2\u00a0MB"
    assert file_label("docx", None) == "DOCX" and file_label(None, "245 KB") == "245\u00a0kB"
    assert file_label(None, None) == ""
