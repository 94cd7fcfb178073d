"""Institution names: canonicalisation, linking, extraction, the CLI contract, and the accuracy gate.

The evaluation set (``data/entities_eval.jsonl``) holds real mentions taken from the seed pages and
from real Polish institutional pages (each line names its origin). ``ACCURACY_FLOOR`` pins the
share of mentions whose canonical name, acronym and kind are all right.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import typer
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from aggregator.commands.entities import register
from aggregator.entities import KINDS, Entity, canonicalize, extract, extract_mentions, gazetteer
from aggregator.entities import text as text_module
from aggregator.entities.text import token_columns, tokenize

DATA = Path(__file__).parent / "data" / "entities_eval.jsonl"
SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
MIRROR_TEXTS = Path(__file__).resolve().parents[2] / "scrapers" / "mirror" / "texts"

# Share of the evaluation set that must be fully right. It can only be raised.
ACCURACY_FLOOR = 0.97
# Every kind must stay at least this good, so a regression in a small kind is not hidden.
PER_KIND_FLOOR = 0.85


def _eval_rows() -> list[dict[str, str | None]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def _seed(prefix: str) -> str:
    matches = sorted(SEEDS.glob(f"{prefix}_*.txt"))
    if not matches:
        pytest.skip(f"seed {prefix} not available at {SEEDS}")
    return matches[0].read_text(encoding="utf-8")


# --- the accuracy gate ---------------------------------------------------------------------------


def test_eval_set_is_big_real_and_covers_every_kind() -> None:
    rows = _eval_rows()
    assert len(rows) >= 200
    assert len({r["mention"] for r in rows}) == len(rows), "duplicate mentions"
    assert all(r["origin"] for r in rows)
    assert {r["kind"] for r in rows} == set(KINDS)


def test_eval_accuracy_overall_and_per_kind() -> None:
    rows = _eval_rows()
    right: Counter[str] = Counter()
    total: Counter[str] = Counter()
    failures = []
    for row in rows:
        entity = canonicalize(str(row["mention"]))
        got = (entity.canonical, entity.acronym, entity.kind)
        want = (row["canonical"], row["acronym"], row["kind"])
        total[str(row["kind"])] += 1
        if got == want:
            right[str(row["kind"])] += 1
        else:
            failures.append(f"{row['mention']!r}: got {got}, want {want}")
    accuracy = sum(right.values()) / len(rows)
    per_kind = {kind: right[kind] / total[kind] for kind in total}
    report = "\n".join(f"  {k:32} {v:.3f} ({right[k]}/{total[k]})" for k, v in sorted(per_kind.items()))
    print(f"\nentity accuracy {accuracy:.3f} on {len(rows)} mentions\n{report}")
    assert accuracy >= ACCURACY_FLOOR, "\n".join(failures)
    assert min(per_kind.values()) >= PER_KIND_FLOOR, report + "\n" + "\n".join(failures)


# --- canonicalisation pitfalls (DESIGN.md §3) ----------------------------------------------------


@pytest.mark.parametrize(
    ("mention", "canonical"),
    [
        (
            "Regionalnego Ośrodka Polityki Społecznej w Białymstoku",
            "Regionalny Ośrodek Polityki Społecznej w Białymstoku",
        ),
        ("Mazowieckiemu Centrum Polityki Społecznej", "Mazowieckie Centrum Polityki Społecznej"),
        ("Centrum Psychiatrycznego", "Centrum Psychiatryczne"),  # "centrum" is case-invariant
        (
            "Urzędzie Marszałkowskim Województwa Warmińsko-Mazurskiego w Olsztynie",
            "Urząd Marszałkowski Województwa Warmińsko-Mazurskiego w Olsztynie",
        ),
        (
            "Miejsko-Gminnego Ośrodka Pomocy Społecznej w Sianowie",
            "Miejsko-Gminny Ośrodek Pomocy Społecznej w Sianowie",
        ),
        ("Domu Polskiego Dziecka", "Dom Polskiego Dziecka"),  # the adjective belongs to "Dziecka"
        ("Szkoły Głównej Gospodarstwa Wiejskiego", "Szkoła Główna Gospodarstwa Wiejskiego"),
        ("Spółdzielnię Socjalną „Pożytek”", "Spółdzielnia Socjalna „Pożytek”"),
        ("Fundacją Pro Omnis", "Fundacja Pro Omnis"),
        (
            "Warsztatów Terapii Zajęciowej w Powiecie Warszawskim Zachodnim",
            "Warsztat Terapii Zajęciowej w Powiecie Warszawskim Zachodnim",
        ),
        (
            "Stowarzyszenia na Rzecz Organizowania Społeczności Lokalnych AB OVO we Wrocławiu",
            "Stowarzyszenie na Rzecz Organizowania Społeczności Lokalnych AB OVO we Wrocławiu",
        ),
        ("Fundacji Kacze Bagno", "Fundacja Kacze Bagno"),
    ],
)
def test_only_the_head_phrase_goes_back_to_the_nominative(mention: str, canonical: str) -> None:
    assert canonicalize(mention).canonical == canonical


@pytest.mark.parametrize(
    ("mention", "key"),
    [
        ("MCPS-u", "mcps"),
        ("MCPS", "mcps"),
        ("DOPS-ie", "dops"),
        ("ROPS w Białymstoku", "rops-bialystok"),
        ("ROPS-ie w Białymstoku", "rops-bialystok"),
        ("RCPS w Łodzi", "rcps-lodz"),
        ("ROPS Województwa Śląskiego", "rops-slaskie"),
        ("REGIONALNY OŚRODEK POLITYKI SPOŁECZNEJ W BIAŁYMSTOKU", "rops-bialystok"),
        ("Ministerstwa Pracy i Polityki Społecznej", "mrpips"),  # a past name of the ministry
        ("MRiPS", "mrpips"),
        ("Urzędu Marszałkowskiego Województwa Mazowieckiego", "um-mazowieckie"),
        ("UM WM", "um-mazowieckie"),
        ("KKRES", "kkres"),
    ],
)
def test_acronyms_names_and_past_names_link_to_the_gazetteer(mention: str, key: str) -> None:
    assert canonicalize(mention).key == key


def test_plural_and_lower_case_category_mentions_map_to_the_singular_category() -> None:
    for mention in (
        "Ośrodków Wsparcia Ekonomii Społecznej",
        "ośrodki wsparcia ekonomii społecznej",
        "OWES-ów",
        "OWES-y",
    ):
        entity = canonicalize(mention)
        assert (entity.canonical, entity.acronym, entity.kind) == (
            "Ośrodek Wsparcia Ekonomii Społecznej",
            "OWES",
            "owes",
        )
    assert canonicalize("centrów integracji społecznej").canonical == "Centrum Integracji Społecznej"
    assert canonicalize("Spółdzielni Socjalnych").canonical == "Spółdzielnia Socjalna"


def test_bare_ambiguous_acronym_stays_generic() -> None:
    entity = canonicalize("ROPS")
    assert entity.canonical == "Regionalny Ośrodek Polityki Społecznej"
    assert entity.key not in {e.key for e in gazetteer()}


def test_category_acronym_with_place_expands_to_the_full_name() -> None:
    entity = canonicalize("CIS w Legionowie")
    assert (entity.canonical, entity.acronym, entity.kind) == (
        "Centrum Integracji Społecznej w Legionowie",
        "CIS",
        "cis",
    )


def test_a_roman_numeral_counting_the_term_is_not_part_of_the_name() -> None:
    """One council across its terms (wrotapodlasia.pl: "Trzecie obrady Podlaskiej Rady Działalności
    Pożytku Publicznego IV kadencji"), while a numeral that is part of a name stays in it."""
    council = [(m.text, m.entity.key) for m in extract_mentions(
        "Trzecie obrady Podlaskiej Rady Działalności Pożytku Publicznego IV kadencji")]  # fmt: skip
    assert council == [("Podlaskiej Rady Działalności Pożytku Publicznego",
                        "podlaska-rada-dzialalnosci-pozytku-publicznego")]  # fmt: skip
    assert extract_mentions("Spotkanie Podlaskiej Rady Seniorów II kadencji")[0].text == "Podlaskiej Rady Seniorów"
    school = extract_mentions("Szkoła Podstawowa im. Jana Pawła II w Łodzi")[0].text
    assert school == "Szkoła Podstawowa im. Jana Pawła II w Łodzi"


def test_fuzzy_linking_needs_the_same_place_and_numbers() -> None:
    # A typo still links …
    assert canonicalize("Regionalnego Ośrodka Polityki Spolecznej w Białymstoku").key == "rops-bialystok"
    # … but another town never does, however similar its name.
    olsztynek = canonicalize("Regionalnego Ośrodka Polityki Społecznej w Olsztynku")
    assert olsztynek.key != "rops-warminsko-mazurskie"
    assert olsztynek.canonical == "Regionalny Ośrodek Polityki Społecznej w Olsztynku"
    first = canonicalize("Warsztatu Terapii Zajęciowej Nr 1 w Olsztynie")
    second = canonicalize("Warsztatu Terapii Zajęciowej Nr 2 w Olsztynie")
    assert first.key != second.key
    assert second.canonical == "Warsztat Terapii Zajęciowej Nr 2 w Olsztynie"


def test_a_different_head_noun_is_never_a_fuzzy_match() -> None:
    assert canonicalize("Ministra Pracy i Polityki Społecznej").key != "mrpips"


def test_new_entities_get_a_kind_and_a_stable_slug_key() -> None:
    entity = canonicalize("Fundacji Leny Grochowskiej")
    assert entity == Entity("fundacja-leny-grochowskiej", "Fundacja Leny Grochowskiej", None, "foundation")
    assert canonicalize("Uniwersytetu Warszawskiego").kind == "university"
    assert canonicalize("Stowarzyszenia Tilia").kind == "association"


# --- the gazetteer -------------------------------------------------------------------------------


def test_gazetteer_has_every_regional_centre_and_marshal_office() -> None:
    entries = gazetteer()
    centres = [e for e in entries if e.kind == "regional_social_policy_centre"]
    offices = [e for e in entries if e.kind == "marshal_office"]
    assert len({e.voivodeship for e in centres}) == 16 == len(centres)
    assert len({e.voivodeship for e in offices}) == 16 == len(offices)
    assert len({e.key for e in entries}) == len(entries)
    assert all(e.kind in KINDS and e.website for e in entries)
    assert any(e.kind == "ministry" for e in entries)
    assert any(e.kind == "national_body" for e in entries)
    assert any(e.kind == "regional_committee" for e in entries)


def test_every_gazetteer_name_canonicalises_to_itself() -> None:
    for entity in gazetteer():
        assert canonicalize(entity.canonical) == entity


# --- extraction ----------------------------------------------------------------------------------


def _found(text: str) -> dict[str, str]:
    return {m.text: m.entity.canonical for m in extract_mentions(text)}


AB_OVO = "Stowarzyszenie na Rzecz Organizowania Społeczności Lokalnych AB OVO w Tłuszczu"


def test_seed_002_mentions() -> None:
    found = _found(_seed("002"))
    expected = {
        "Centrum Pomocy Społecznej w Tłuszczu": "Centrum Pomocy Społecznej w Tłuszczu",
        "Centrum Pomocy Społecznej w Węgrowie": "Centrum Pomocy Społecznej w Węgrowie",
        "Stowarzyszenie „Karuzela”": "Stowarzyszenie „Karuzela”",
        AB_OVO: AB_OVO,
        "Ośrodek Pomocy Społecznej w Tłuszczu": "Ośrodek Pomocy Społecznej w Tłuszczu",
        "Spółdzielnię Socjalną „Pożytek”": "Spółdzielnia Socjalna „Pożytek”",
        "Centrum Integracji Społecznej w Legionowie": "Centrum Integracji Społecznej w Legionowie",
        "MBPR w Warszawie": "Mazowieckie Biuro Planowania Regionalnego w Warszawie",
        "Ośrodków Wsparcia Ekonomii Społecznej": "Ośrodek Wsparcia Ekonomii Społecznej",
        "Centrów Integracji Społecznej": "Centrum Integracji Społecznej",
        "Spółdzielni Socjalnych": "Spółdzielnia Socjalna",
        "Zakładów Aktywności Zawodowej": "Zakład Aktywności Zawodowej",
    }
    for mention, canonical in expected.items():
        assert found.get(mention) == canonical, mention
    assert not any("Hydro" in m or "Starosta" in m for m in found)


def test_seed_000_003_004_mentions() -> None:
    seed0 = extract_mentions(_seed("000"))
    assert {m.entity.key for m in seed0} >= {"mcps", "um-mazowieckie", "osrodek-wsparcia-ekonomii-spolecznej"}
    seed3 = extract_mentions(_seed("003"))
    assert [m.entity.key for m in seed3] == ["rops-warminsko-mazurskie"]
    seed4 = extract_mentions(_seed("004"))
    keys = [m.entity.key for m in seed4]
    assert keys.count("rops-bialystok") == 2 and "tise" in keys
    assert not any("Funduszu" in m.text or "Hotel" in m.text for m in seed4)


def test_seed_001_mentions() -> None:
    found = _found(_seed("001"))
    assert (
        found['Spółdzielni "Centrum Usług Środowiskowych" w Drobinie']
        == 'Spółdzielnia "Centrum Usług Środowiskowych" w Drobinie'
    )
    assert found["Centrum Integracji Społecznej w Zbijowie Małym"] == "Centrum Integracji Społecznej w Zbijowie Małym"
    assert found["Mazowieckiego Centrum Polityki Społecznej"] == "Mazowieckie Centrum Polityki Społecznej"


def test_extraction_offsets_and_context_linking() -> None:
    text = (
        "Spotkanie Regionalnego Komitetu Rozwoju Ekonomii Społecznej w Województwie Podlaskim (RKRES) "
        "zorganizował Regionalny Ośrodek Polityki Społecznej w Białymstoku. Dyrektor ROPS-u otworzyła "
        "spotkanie, a Dyrektor Departamentu Europejskiego Funduszu Społecznego Urzędu Marszałkowskiego "
        "Województwa Podlaskiego przedstawiła program; byli też goście z KIS-ów i CIS-ów."
    )
    mentions = extract_mentions(text)
    for m in mentions:
        assert text[m.char_start : m.char_end] == m.text
    keys = [m.entity.key for m in mentions]
    assert keys[:4] == ["rkres-podlaskie", "rkres-podlaskie", "rops-bialystok", "rops-bialystok"]
    assert "um-podlaskie" in keys
    assert [m.text for m in mentions if m.entity.kind in {"kis", "cis"}] == ["KIS-ów", "CIS-ów"]
    assert not any("Fundusz" in m.entity.canonical for m in mentions)


def test_names_never_cross_a_line_break_and_lone_heads_are_ignored() -> None:
    text = "Urząd Marszałkowski Województwa Pomorskiego\nRegionalny Ośrodek Polityki Społecznej\nOśrodek zaprasza."
    texts = [m.text for m in extract_mentions(text)]
    assert texts == ["Urząd Marszałkowski Województwa Pomorskiego", "Regionalny Ośrodek Polityki Społecznej"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a comma inside a name ("Ministerstwo Rodziny, Pracy i …") continues it on the same line only
        (
            "Działania wspiera Ministerstwo Rodziny,\nPracy i Polityki Społecznej ogłosiło nabór.",
            ["Ministerstwo Rodziny"],
        ),
        ("Fundacja Rozwoju, Sportu\ni Kultury zaprasza.", ["Fundacja Rozwoju"]),
        # the name after "na rzecz" too
        ("Stowarzyszenie na rzecz\nOsób Niepełnosprawnych zaprasza.", []),
        # and a category phrase in lower case
        ("Wsparcie dla centrów\nintegracji społecznej w regionie.", []),
    ],
)
def test_a_name_continued_on_the_next_line_is_not_one_mention(text: str, expected: list[str]) -> None:
    assert [m.text for m in extract_mentions(text)] == expected


def test_a_category_phrase_ends_before_a_preposition_or_conjunction() -> None:
    """Real texts (MCPS, ROPS Kraków): the canonical form drops a trailing "i", "w", "do", so the
    longest phrase tried took it, and the stored mention read "ośrodków pomocy społecznej i"."""
    text = (
        "Zapraszamy przedstawicieli ośrodków pomocy społecznej i powiatowych centrów pomocy rodzinie\n"
        "w województwie, a także centra integracji społecznej oraz ośrodki wsparcia ekonomii społecznej do końca roku."
    )
    assert [(m.text, m.entity.key) for m in extract_mentions(text)] == [
        ("ośrodków pomocy społecznej", "osrodek-pomocy-spolecznej"),
        ("powiatowych centrów pomocy rodzinie", "powiatowe-centrum-pomocy-rodzinie"),
        ("centra integracji społecznej", "centrum-integracji-spolecznej"),
        ("ośrodki wsparcia ekonomii społecznej", "osrodek-wsparcia-ekonomii-spolecznej"),
    ]


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet='AĄBCĆDEĘŁMNOÓPRSŚTWZŻaąbcćdeęfghijklłmnńoóprsśtuwyzźż „”"-.,()\n', max_size=80))
def test_extraction_never_fails_and_offsets_always_match(text: str) -> None:
    for m in extract_mentions(text):
        assert text[m.char_start : m.char_end] == m.text
        assert m.entity.kind in KINDS


def _starts(text: str) -> Counter[str]:
    """Which span rule starts at each token of ``text``; asserts the scanner's pre-filter lets
    every such token through (`extract_mentions` tries the rules only where `_may_start` says)."""
    tokens = token_columns(text)
    rules: Counter[str] = Counter()
    for i, (word, kind) in enumerate(zip(tokens.text, tokens.kind, strict=True)):
        for name, found in (
            ("acronym", extract._acronym_span(tokens, i, text)),
            ("named", extract._named_span(tokens, i, text)),
            ("category", extract._category_span(tokens, i, text)),
        ):
            if found:
                rules[name] += 1
                assert kind == "word" and extract._may_start(word), (name, word, text)
    return rules


def test_the_scanner_skips_only_tokens_where_no_span_rule_starts() -> None:
    articles = [a for p in sorted(MIRROR_TEXTS.glob("*.json")) for a in json.loads(p.read_text("utf-8"))["articles"]]
    texts = [a["title"] or "" for a in articles] + ["\n".join(a["paragraphs"]) for a in articles]
    texts += [row["mention"] or "" for row in _eval_rows()]
    texts += [t.lower() for t in texts] + [t.upper() for t in texts]
    rules = sum((_starts(t) for t in texts), Counter())
    assert min(rules["acronym"], rules["named"], rules["category"]) >= 50, rules


#: Pieces of names, phrases and the words around them, to be shuffled into text.
_NAME_PIECES = (
    "ośrodków wsparcia ekonomii społecznej",
    "centrum integracji społecznej",
    "powiatowego centrum pomocy rodzinie",
    "klubów integracji społecznej",
    "warsztatów terapii zajęciowej",
    "zakładu aktywności zawodowej",
    "spółdzielni socjalnych",
    "miejskich ośrodków pomocy społecznej",
    "Regionalnego Ośrodka Polityki Społecznej",
    "Dyrektor Urzędu Marszałkowskiego",
    "Fundacji na rzecz",
    "im. J. Korczaka",
    "w Białymstoku",
    "ROPS",
    "OWES-ów",
    "MCPS-u",
    "UM WM",
    "Nr 1",
    "i",
    ",",
    ".",
    "\n",
    "„Pożytek”",
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_NAME_PIECES), max_size=14))
def test_the_scanner_pre_filter_holds_on_any_mix_of_name_pieces(pieces: list[str]) -> None:
    _starts(" ".join(pieces))


def _pattern_tokens(text: str) -> list[tuple[str, int, int, str]]:
    """What `tokenize` must give: every match of the token pattern, kind = the group that matched."""
    return [(m.group(), m.start(), m.end(), m.lastgroup or "punct") for m in text_module._TOKEN_RE.finditer(text)]


_TOKEN_PIECES = ('„', '”', '“', '"', "«", "»", "'", "’", "-", ".", "/", ",", " ", "  ", "\n", "\t", "\xa0", "\u2028",
                 "Sp. z o.o.", "sp.z o.o.", "Sp.", "p.", "S.A.", "nr.", "Nr", "św.", "im.", "ds.", "7", "12.03",
                 "x²", "Ośrodek", "pomocy", "Warmińsko-Mazurski", "PCPR-u", "Jana", "_", "np.", "(sp.", "Sp.z",
                 "zo.o.")  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_TOKEN_PIECES), max_size=30))
def test_tokenize_gives_the_token_pattern_s_matches(pieces: list[str]) -> None:
    """`tokenize` cuts most of the text at whitespace and runs the pattern only where a quote or
    "Sp. z o.o." may start: the tokens must be the pattern's own, wherever quotes open and close."""
    text = "".join(pieces)
    assert tokenize(text) == _pattern_tokens(text)
    columns = token_columns(text)
    ends = [columns.end(i) for i in range(len(columns.text))]
    assert list(zip(columns.text, columns.start, ends, columns.kind, strict=True)) == _pattern_tokens(text)


def test_tokenize_gives_the_token_pattern_s_matches_on_real_texts() -> None:
    articles = [a for p in sorted(MIRROR_TEXTS.glob("*.json")) for a in json.loads(p.read_text("utf-8"))["articles"]]
    texts = [a["title"] or "" for a in articles] + ["\n\n".join(a["paragraphs"]) for a in articles]
    texts += [row["mention"] or "" for row in _eval_rows()]
    for text in texts:
        assert tokenize(text) == _pattern_tokens(text)


# --- the CLI contract (DESIGN.md §8) -------------------------------------------------------------


@pytest.fixture
def runner_app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """Throwaway root so that `entities` stays a sub-command."""

    return app


def test_cli_one_text_that_is_one_mention(runner_app: typer.Typer) -> None:
    text = "Regionalnego Ośrodka Polityki Społecznej w Białymstoku"
    result = CliRunner().invoke(runner_app, ["entities", text])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload == {
        "text": "Regionalnego Ośrodka Polityki Społecznej w Białymstoku",
        "entities": [
            {
                "mention": "Regionalnego Ośrodka Polityki Społecznej w Białymstoku",
                "canonical": "Regionalny Ośrodek Polityki Społecznej w Białymstoku",
                "acronym": "ROPS",
                "kind": "regional_social_policy_centre",
            }
        ],
    }
    assert "Ośrodek" in result.output  # ensure_ascii=False


@pytest.mark.parametrize(
    "text", ["DOPS", "ROPS w Białymstoku", "Zakład Aktywności Zawodowej przy Stowarzyszeniu Nadzieja"]
)
def test_cli_whole_text_mention_gives_exactly_one_entity(runner_app: typer.Typer, text: str) -> None:
    result = CliRunner().invoke(runner_app, ["entities", text])
    entities = json.loads(result.output)["entities"]
    assert len(entities) == 1 and entities[0]["mention"] == text


def test_cli_jsonl_keeps_order_and_survives_bad_lines(runner_app: typer.Typer) -> None:
    lines = [
        json.dumps({"text": "Współpraca MCPS-u i OWES-ów."}, ensure_ascii=False),
        "{not json",
        json.dumps({"nope": 1}),
        "",
        json.dumps({"text": "Brak instytucji."}, ensure_ascii=False),
    ]
    result = CliRunner().invoke(runner_app, ["entities", "--jsonl"], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert len(out) == len(lines)
    assert [e["canonical"] for e in out[0]["entities"]] == [
        "Mazowieckie Centrum Polityki Społecznej",
        "Ośrodek Wsparcia Ekonomii Społecznej",
    ]
    assert "error" in out[1] and "error" in out[2] and "error" in out[3]
    assert out[4] == {"text": "Brak instytucji.", "entities": []}
