"""Property tests: the date scanner never raises and never backtracks catastrophically."""

from __future__ import annotations

import itertools
import time
from copy import copy
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from aggregator import dates
from aggregator.dates import find_dates, parse_date, span_to_json

# Pieces that put the scanner's patterns under stress when repeated and glued together.
_PIECES = [
    "1",
    "12",
    "2024",
    "19-20",
    ".",
    "..",
    "-",
    "–",
    "/",
    ":",
    " ",
    "\n",
    ",",
    "r.",
    "roku",
    "br.",
    "b.r.",
    "marca",
    "Maja",
    "maj",
    "maju",
    "grudzień",
    "lut.",
    "IV",
    "XI/",
    "kwartał",
    "półrocze",
    "połowie",
    "od",
    "do",
    "dnia",
    "i",
    "a",
    "w",
    "we",
    "godz.",
    "o godz. 12:00",
    "Dz. U. z",
    "poz.",
    "ul.",
    "poniedziałek,",
    "wczoraj",
    "temu",
    "dni",
    "dzisiaj",
    "się",
    "nie",
    "T13:36:00+02:00",
    "0",
    "9",
]

polish_noise = st.lists(st.sampled_from(_PIECES), max_size=80).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300), reference=st.none() | st.dates(min_value=date(1901, 1, 1)))
def test_any_unicode_text_returns_spans(text: str, reference: date | None) -> None:
    for span in find_dates(text, reference):
        assert text[span.char_start : span.char_end] == span.match
        span_to_json(span)
    parse_date(text, reference)


@settings(max_examples=300, deadline=None)
@given(text=polish_noise, reference=st.dates(min_value=date(1901, 1, 1), max_value=date(2098, 12, 31)))
def test_date_like_noise_gives_consistent_spans(text: str, reference: date) -> None:
    spans = find_dates(text, reference)
    ends = [s.char_start for s in spans]
    assert ends == sorted(ends)
    for previous, current in itertools.pairwise(spans):
        assert previous.char_end <= current.char_start
    for span in spans:
        assert span.granularity in {"minute", "day", "month", "quarter", "half-year", "year"}
        assert span.kind in {"point", "range", "from", "until"}
        if span.end is not None:
            assert span_to_json(span)["end"] >= span_to_json(span)["start"][:10]


def _cpu_seconds(text: str) -> float:
    """CPU time of one scan: unlike wall time it does not grow when other jobs share the machine."""
    start = time.process_time()
    find_dates(text, date(2024, 1, 1))
    return time.process_time() - start


def _assert_linear(text: str) -> None:
    """A 10× longer text may cost about 10× more, never 100× (catastrophic backtracking).

    Compared with the same text's first tenth on the same machine, so the test holds on a slow or
    loaded CI runner; the absolute cap only catches a scan that never finishes.
    """
    tenth = min(_cpu_seconds(text[: len(text) // 10]) for _ in range(3))
    # the best of three for both: the scanner memoises chunks, so a first run pays for its misses
    whole = min(_cpu_seconds(text) for _ in range(3))
    assert whole < max(30 * tenth, 0.25), (text[:40], tenth, whole)
    assert whole < 10.0, text[:40]


def test_100_kb_adversarial_texts_scale_linearly() -> None:
    adversarial = [
        "1" * 100_000,
        ("12." * 34_000)[:100_000],
        ("1.2.3-4/5:6 " * 9_000)[:100_000],
        ("marca maja Maja grudnia 2024 " * 3_500)[:100_000],
        ("12 i 13 października 2024 r. do " * 3_300)[:100_000],
        ("19-20.05.2022 r. godz. 10.00–14.00 " * 3_000)[:100_000],
        ("w dniach od do od do 2024 roku r. br. " * 2_700)[:100_000],
        ("I II III IV kwartał półrocze połowie " * 2_800)[:100_000],
        ("się nie wczoraj temu dni " * 4_000)[:100_000],
        ("2024-05-14T13:36:00+02:00 " * 3_900)[:100_000],
    ]
    for text in adversarial:
        assert len(text) >= 99_000
        _assert_linear(text)


@settings(max_examples=20, deadline=None)
@given(seed=polish_noise.filter(lambda s: len(s) > 0))
def test_repeated_noise_scales_linearly(seed: str) -> None:
    text = (seed * (100_000 // len(seed) + 1))[:100_000]
    _assert_linear(text)


def _anchors_of_whole_text(text: str) -> list[int]:
    """What `dates._anchors` finds chunk by chunk: digit runs and keywords searched in the whole text."""
    found = [m.start() for m in dates._DIGITS_RE.finditer(text)]
    low = text.lower()
    if len(low) != len(text):
        return sorted(set(found) | {m.start() for m in dates._WORD_START_RE.finditer(text)})
    for word in dates._KEYWORDS:
        i = low.find(word)
        while i != -1:
            found.append(i)
            i = low.find(word, i + 1)
    return sorted(set(found))


def _candidates_by_rfind(text: str, anchor: int, floor: int) -> list[int]:
    """What `dates._candidates` finds with one rsplit: the word starts found with rfind, word by word."""
    lo = max(floor, anchor - dates._LOOKBACK)
    starts = [anchor]
    end = anchor
    for _ in range(dates._WORDS_BACK + 1):
        cut = max(text.rfind(" ", lo, end), text.rfind("\n", lo, end), text.rfind("\t", lo, end))
        start = (cut if cut >= 0 else lo - 1) + 1
        while start < end and not text[start].isalnum():
            start += 1
        if start < end:
            starts.append(start)
        if cut < 0:
            break
        end = cut
    starts.reverse()
    return starts


_ODD_PIECES = ["İ", "Σ", "\xa0", "\u2028", "\t", "  ", "\r\n", "lutemu", "sierpzeszł", "x2024", "2024x", "MARCA", "ẞ"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES + _ODD_PIECES), max_size=40).map("".join), st.data())
def test_anchors_and_candidates_are_those_of_the_whole_text(text: str, data: st.DataObject) -> None:
    """The scanner finds anchors chunk by chunk (memoised) and word starts with one rsplit: they must
    be the ones a search of the whole text finds, repeated chunks and odd characters included."""
    assert dates._anchors(text) == _anchors_of_whole_text(text)
    if text:
        anchor = data.draw(st.integers(0, len(text) - 1))
        floor = data.draw(st.integers(0, anchor))
        assert dates._candidates(text, anchor, floor) == _candidates_by_rfind(text, anchor, floor)


_DIGIT_PIECES = ["1", "3", "05", "12", "123", "2024", "20245", "1234567", "٣", "1٣", "²", "12:00", "19:40 ",
                 " dni temu", " marca", ".", "-", "/", ".05.", "-05-", "/2020", " r.", " kwartał", " półrocze", "IV",
                 " "]  # fmt: skip
# Whole expressions of every alternative that can start with a digit, each with its run of digits.
_DIGIT_EXPRESSIONS = ["2024-05-14", "2024-05-14T13:36:00+02:00", "19-20.05.2022 r.", "8.06.2018", "15.IV.2019",
                      "5 IV 2019", "19:40 23 lutego 2024", "5 i 19 maja", "1 kwartał 2024", "2 półrocze 2020",
                      "03/2020", "2020-10", "w 2021 roku", "2014-2020 r.", "21.10 br.", "(20.09.)", "3 dni temu",
                      "123 dni temu", "12 godzin temu"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_DIGIT_EXPRESSIONS + _DIGIT_PIECES + _PIECES), max_size=25).map("".join)
    | st.lists(st.sampled_from(_DIGIT_EXPRESSIONS + _DIGIT_PIECES), max_size=12).map(" ".join)
)
@example(" ".join(_DIGIT_EXPRESSIONS))
def test_leaving_out_alternatives_by_digit_run_changes_no_match(text: str) -> None:
    """At a digit the scanner tries only the alternatives that can start with a run of that many
    digits: every match must be the one of all the alternatives the first character allows."""
    for start in range(len(text)):
        every = dates._pattern_for(text[start])
        if every is None:
            continue
        pattern = dates._pattern_at(text, start)
        expected = every.match(text, start)
        found = pattern.match(text, start) if pattern is not None else None
        assert (found is None) == (expected is None), (text, start)
        if found is not None and expected is not None:
            assert (found.span(), found.lastgroup) == (expected.span(), expected.lastgroup), (text, start)
            assert {k: v for k, v in found.groupdict().items() if v is not None} == {
                k: v for k, v in expected.groupdict().items() if v is not None
            }, (text, start)


def _scan_trying_every_candidate(text: str) -> list[dates._Atom]:
    """`dates._scan` without its memo of the positions where nothing was found."""
    atoms: list[dates._Atom] = []
    pos = 0
    for anchor in dates._anchors(text):
        if anchor < pos:
            continue
        for start in dates._candidates(text, anchor, pos):
            if start < pos:
                continue
            pattern = dates._pattern_at(text, start)
            m = pattern.match(text, start) if pattern is not None else None
            built = dates._BUILDERS[m.lastgroup](m, text) if m is not None else None  # type: ignore[index]
            if built:
                atoms.extend(built)
                pos = max(m.end(), built[-1].e)  # type: ignore[union-attr]
                break
    return atoms


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_DIGIT_EXPRESSIONS + _DIGIT_PIECES + _PIECES + _ODD_PIECES), max_size=30).map("".join)
    | st.lists(st.sampled_from(_DIGIT_EXPRESSIONS + _DIGIT_PIECES + _PIECES), max_size=15).map(" ".join)
)
def test_scan_skipping_failed_positions_and_its_runs_of_four_digits(text: str) -> None:
    """The scan does not try a position again where nothing was found for an earlier anchor: it must
    find what trying every candidate finds; and the runs of four digits it gives along the way must
    be those of the whole text."""
    atoms, runs = dates._scan_with_runs(text)
    assert atoms == _scan_trying_every_candidate(text)
    assert runs == {run for run in dates._DIGITS_RE.findall(text) if len(run) == 4}


def test_resolving_a_scan_leaves_its_atoms_as_scanned() -> None:
    """`_found` shares the scan's atoms that have a year and copies the others, as resolving fills
    years in: the scan must be the same after texts were resolved against several days."""
    text = "od 28 grudnia do 3 stycznia 2024, 1 czerwca i 2 lipca 2024, wczoraj, 5 maja br., od stycznia do marca"
    before = [copy(atom) for atom in dates._scan(text)]
    for day in (date(2020, 1, 1), date(2024, 6, 30), date(1990, 3, 1)):
        dates._found.cache_clear()
        assert dates._found(text, day) == tuple(_find_dates_from_copies(text, day))
    assert list(dates._scanned(text)[0]) == before


def _find_dates_from_copies(text: str, day: date) -> list[dates.DateSpan]:
    """`find_dates` from a fresh scan whose atoms are all copies (the rule before atoms were shared)."""
    atoms = dates._drop_bridged_relatives(text, [copy(atom) for atom in dates._scan(text)])
    return dates._combine(text, atoms, day)


_FRAME_PIECES = ["od", "OD", "Od", "do", "DO", "pomiędzy", "POMIĘDZY", "między", "począwszy", "najpóźniej", "dnia",
                 "DNİA", "dnıa", "dn.", "dzy", " ", "  ", "\n", "\t", "\xa0", "x", "1", "."]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_FRAME_PIECES), max_size=14).map("".join))
def test_frame_before_is_the_pattern_before_each_position(text: str) -> None:
    """`_frame_before` tries its pattern only where the text before ends as a frame must: it must
    give what the pattern gives before every position, odd letters the case-blind match takes included."""
    for start in range(len(text) + 1):
        m = dates._FRAME_BEFORE.search(text, max(0, start - 24), start)
        assert dates._frame_before(text, start) == ((m.lastgroup, m.start()) if m else (None, start)), (text, start)


_CITATION_PIECES = ["Dz.", "DZ.", "dz.", "U.", "Urz.", "M.", "m.", "P.", "Monitor", "MONİTOR", "Monıtor", "Polski",
                    " ", "  ", "\n", "(", ")", "z", "2020", "r.", "poz.", "x"]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_CITATION_PIECES), max_size=14).map("".join))
def test_citation_check_is_the_pattern_before_each_position(text: str) -> None:
    """`_cited_before` tries its pattern only on windows holding what each match holds: it must say
    what the pattern says before every position, odd letters the case-blind match takes included."""
    for start in range(len(text) + 1):
        expected = dates._CITATION_BEFORE.search(text, max(0, start - dates._WINDOW), start) is not None
        assert dates._cited_before(text, start) == expected, (text, start)
