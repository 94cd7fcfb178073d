"""Finding institution mentions in announcement text.

A small rule-based scanner over tokens, with morfeusz2 readings as features:
- *named mentions* start at a capitalised head noun ("Ośrodka", "Fundacji", "Urzędu"), possibly
  preceded by agreeing capitalised adjectives ("Regionalnego", "Warmińsko-Mazurskiego"), and run
  over capitalised words, a few connectors ("na Rzecz", "i", "im."), numbers after "Nr", quoted
  names and a final place ("w Białymstoku");
- *acronyms* known to the gazetteer or the categories ("MCPS-u", "OWES", "ROPS w Rzeszowie");
- *generic category phrases* in lower case ("ośrodków wsparcia ekonomii społecznej").
Each span is canonicalised and linked; a bare acronym or generic name later in the same text is
linked to the institution of that acronym mentioned earlier ("… w Białymstoku (ROPS)").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, lru_cache
from itertools import pairwise

from aggregator.entities import categories
from aggregator.entities.canonical import HEAD_LEMMAS, canonicalize, nominative_phrase
from aggregator.entities.gazetteer import load
from aggregator.entities.model import Entity, Mention
from aggregator.entities.morphology import analyse
from aggregator.entities.text import Token, is_all_caps, is_capitalised, tokenize

#: Heads that only make a mention when the name is in the gazetteer: "Europejski Fundusz
#: Społeczny" is a funding programme, "Państwowy Fundusz Rehabilitacji …" (PFRON) an institution.
GAZETTEER_ONLY_HEADS: frozenset[str] = frozenset({"fundusz", "bank", "agencja"})

#: Capitalised nouns after which a capitalised adjective still starts a new name
#: ("Dyrektor Regionalnego Ośrodka …"), unlike "Funduszu Społecznego Urzędu …".
TITLE_NOUNS: frozenset[str] = frozenset(
    {
        "dyrektor",
        "dyrektorka",
        "prezes",
        "prezeska",
        "kierownik",
        "kierowniczka",
        "zastępca",
        "zastępczyni",
        "członek",
        "członkini",
        "pracownik",
        "pracownica",
        "przedstawiciel",
        "przedstawicielka",
        "koordynator",
        "koordynatorka",
        "pan",
        "pani",
        "marszałek",
        "wicemarszałek",
        "starosta",
        "burmistrz",
        "wójt",
        "prezydent",
        "przewodniczący",
        "przewodnicząca",
        "minister",
        "wiceminister",
        "wojewoda",
        "specjalista",
        "konsultant",
        "ekspert",
        "rzecznik",
        "siedziba",
        "strona",
    }
)

_CATEGORY_HEADS = frozenset({"ośrodek", "centrum", "klub", "zakład", "warsztat", "warsztaty", "spółdzielnia"})
_CATEGORY_PREMODIFIERS = frozenset({"powiatowy", "regionalny", "miejski", "gminny"})
_CATEGORY_KINDS_IN_LOWER_CASE = frozenset(
    c.kind for c in categories.CATEGORIES if c.kind not in {"other", "marshal_office"}
)
_CONNECTORS = frozenset({"i", "na", "do", "ds.", "im.", "dla"})
_PLACE_WORDS = frozenset({"w", "we"})
# "Rada … IV kadencji", "XII edycji": a Roman numeral before one of these nouns counts the term or
# the edition, it is not part of the name (one council, not one per term).
_ROMAN = re.compile(r"[IVXLC]+")
_COUNTED_NOUNS = frozenset({"kadencja", "edycja", "posiedzenie", "sesja", "stopień", "etap", "tura", "nabór"})
_ACRONYM_TOKEN = re.compile(
    r"(?P<acr>[A-ZĄĆĘŁŃÓŚŹŻ](?:[A-Za-ząćęłńóśźżĄĆĘŁŃÓŚŹŻ]|-(?=[A-ZĄĆĘŁŃÓŚŹŻ]))*)"
    r"(?:-(?P<suffix>[a-ząćęłńóśźż]{1,4}))?"
)
_MAX_PRE_ADJECTIVES = 3


@cache
def _extracted_acronyms() -> frozenset[str]:
    return frozenset(load().known_acronyms() | categories.EXTRACTED_CATEGORY_ACRONYMS)


@cache
def _category_keys() -> frozenset[str]:
    return frozenset(categories.category_entity(c).key for c in categories.CATEGORIES)


# Per-word features are cached by the word's text: the scanner asks them at nearly every token,
# and a page's words repeat on the next page ("Ośrodka", "Społecznej", "w").


@lru_cache(maxsize=65536)
def _lemmas(word: str, pos: str) -> frozenset[str]:
    return frozenset(r.base_lemma for r in analyse(word) if r.pos == pos)


@lru_cache(maxsize=65536)
def _is_head_word(word: str) -> bool:
    return bool(_lemmas(word, "subst") & HEAD_LEMMAS)


@lru_cache(maxsize=65536)
def _is_adjective_word(word: str) -> bool:
    return any(r.pos == "adj" for r in analyse(word))


@lru_cache(maxsize=65536)
def _acronym_of(word: str) -> str | None:
    match = _ACRONYM_TOKEN.fullmatch(word)
    if not match or sum(ch.isupper() for ch in match["acr"]) < 2:
        return None
    acronym = match["acr"]
    return acronym if acronym.upper() in _extracted_acronyms() else None


@lru_cache(maxsize=65536)
def _may_start_category(word: str) -> bool:
    """Whether a word can open a generic category phrase (`_category_span`)."""
    return bool(_lemmas(word, "subst") & _CATEGORY_HEADS or _lemmas(word, "adj") & _CATEGORY_PREMODIFIERS)


@lru_cache(maxsize=65536)
def _may_start(word: str) -> bool:
    """Whether a word token can open any span, from the word alone: an acronym span needs an
    all-caps word (an acronym pair such as "ROPS WM", looked up with the next token) or a known
    acronym (`_acronym_span`); a named mention a word that may open a name and is a head noun or
    an adjective (the first test of `_named_span`'s loop); a category phrase a category head or
    premodifier (`_category_span`).

    Most tokens can open nothing: lower-case words, and capitalised words that are neither heads
    nor adjectives ("W", "Zapraszamy", names of people and places). The scanner skips them at the
    cost of one cached lookup instead of trying the three span rules on each."""
    return (
        word.isupper()
        or _acronym_of(word) is not None
        or (_may_open_name(word) and (_is_head_word(word) or _is_adjective_word(word)))
        or _may_start_category(word)
    )


@lru_cache(maxsize=65536)
def _may_open_name(word: str) -> bool:
    """A named mention opens with a capital, but not with a short all-caps word (an acronym)."""
    return is_capitalised(word) and not (is_all_caps(word) and len(word) < 5)


def _is_head(tok: Token) -> bool:
    return tok.kind == "word" and _is_head_word(tok.text)


def _is_adjective(tok: Token) -> bool:
    return tok.kind == "word" and _is_adjective_word(tok.text)


def _acronym_at(tok: Token) -> str | None:
    """The acronym a token spells (suffix stripped), if it is one we look for."""
    return _acronym_of(tok.text) if tok.kind == "word" else None


def _joined(tokens: Sequence[Token], i: int, text: str) -> bool:
    """Whether token i follows token i-1 on the same line (names never span a line break)."""
    return i > 0 and "\n" not in text[tokens[i - 1].end : tokens[i].start]


def _place_end(tokens: Sequence[Token], i: int, text: str) -> int:
    """If a place ("w Zielonej Górze") starts at token i, the index after it; else i."""
    if i >= len(tokens) or tokens[i].text not in _PLACE_WORDS or not _joined(tokens, i, text):
        return i
    j = i + 1
    while (
        j < len(tokens)
        and _joined(tokens, j, text)
        and tokens[j].kind == "word"
        and is_capitalised(tokens[j].text)
        and not _acronym_at(tokens[j])
    ):
        j += 1
    return j if j > i + 1 else i


def _name_end(tokens: Sequence[Token], head: int, text: str) -> int:
    """Index after the last token of a name whose head noun is at ``head``."""
    j = head + 1
    n = len(tokens)
    while j < n and _joined(tokens, j, text):
        tok = tokens[j]
        if tok.kind == "quote":
            return _place_end(tokens, j + 1, text)
        if tok.kind == "abbrev":
            if tok.text in {"Nr.", "nr."} and j + 1 < n and tokens[j + 1].kind == "number":
                j += 2
                continue
            if tok.text not in _CONNECTORS:  # "S.A.", "sp. z o.o." end company names
                j += 1
                continue
        if tok.kind == "word" and tok.text in {"Nr", "nr"} and j + 1 < n and tokens[j + 1].kind == "number":
            j += 2
            continue
        if tok.kind == "word" and tok.text in _PLACE_WORDS:
            return _place_end(tokens, j, text)
        if tok.kind == "word" and is_capitalised(tok.text):
            if _acronym_at(tok) or _counts_what_follows(tokens, j, text):
                return j
            j += 1
            continue
        if tok.text in _CONNECTORS and j + 1 < n and _joined(tokens, j + 1, text):
            nxt = j + 1
            if tokens[nxt].text in {"rzecz", "Rzecz", "spraw", "Spraw"}:
                nxt += 1
            if nxt < n and _name_word(tokens[nxt]):
                # "im. J. Korczaka": an initial with its dot belongs to the name too.
                j = nxt + 1
                if j + 1 < n and len(tokens[nxt].text) == 1 and tokens[j].text == ".":
                    j += 1
                continue
            return j
        if tok.text == "," and _comma_continues(tokens, j, text):
            j += 1
            continue
        return j
    return j


def _counts_what_follows(tokens: Sequence[Token], j: int, text: str) -> bool:
    """Token j is a Roman numeral counting the next word: "IV kadencji", "II edycji"."""
    nxt = j + 1
    return (
        _ROMAN.fullmatch(tokens[j].text) is not None
        and nxt < len(tokens)
        and _joined(tokens, nxt, text)
        and bool(_lemmas(tokens[nxt].text, "subst") & _COUNTED_NOUNS)
    )


def _name_word(tok: Token) -> bool:
    """A capitalised word or quoted name that continues a name after a connector."""
    return (
        tok.kind in {"word", "quote"}
        and is_capitalised(tok.text.lstrip('„“"'))
        and not _is_head(tok)
        and not _acronym_at(tok)
    )


def _comma_continues(tokens: Sequence[Token], j: int, text: str) -> bool:
    """ "Ministerstwo Rodziny, Pracy i Polityki Społecznej": a comma inside a name is followed by
    capitalised non-head words and then "i" + a capitalised word."""
    k = j + 1
    if k >= len(tokens) or not _name_word(tokens[k]):
        return False
    for m in range(k + 1, min(k + 4, len(tokens) - 1)):
        if tokens[m].text == "i" and is_capitalised(tokens[m + 1].text):
            return all(tokens[x].kind == "word" and is_capitalised(tokens[x].text) for x in range(k, m))
    return False


def _named_span(tokens: Sequence[Token], i: int, text: str) -> tuple[int, int] | None:
    """A capitalised name starting at token i: optional adjectives, a head noun, the rest."""
    tok = tokens[i]
    if tok.kind != "word" or not _may_open_name(tok.text):
        return None
    j = i
    while j < len(tokens) and j - i <= _MAX_PRE_ADJECTIVES:
        cur = tokens[j]
        if cur.kind != "word" or not is_capitalised(cur.text) or (j > i and not _joined(tokens, j, text)):
            return None
        if _is_head(cur):
            break
        if not _is_adjective(cur):
            return None
        j += 1
    else:
        return None
    if j > i and i > 0 and _joined(tokens, i, text):
        prev = tokens[i - 1]
        title = bool(_lemmas(prev.text, "subst") & TITLE_NOUNS)
        if (
            prev.kind == "word"
            and is_capitalised(prev.text)
            and not title
            and not _sentence_initial(tokens, i - 1, text)
        ):
            return None  # the adjective belongs to the previous noun: "Funduszu Społecznego"
    end = _name_end(tokens, j, text)
    return (i, end)


def _sentence_initial(tokens: Sequence[Token], i: int, text: str) -> bool:
    """Whether token i opens a sentence or a line (its capital letter says nothing then)."""
    return i == 0 or not _joined(tokens, i, text) or tokens[i - 1].text in {".", "!", "?", ":", "–", "-"}


def _category_span(tokens: Sequence[Token], i: int) -> tuple[int, int, Entity] | None:
    """A generic category phrase in lower case ("centrów integracji społecznej")."""
    tok = tokens[i]
    if tok.kind != "word" or not _may_start_category(tok.text):
        return None
    for length in (5, 4, 3, 2):
        end = i + length
        if end > len(tokens) or any(t.kind != "word" or t.text[:1].isupper() for t in tokens[i + 1 : end]):
            continue
        span = " ".join(t.text for t in tokens[i:end])
        entity = canonicalize(span)
        if entity.key in _category_keys() and entity.kind in _CATEGORY_KINDS_IN_LOWER_CASE:
            return (i, end, entity)
    return None


def _acronym_span(tokens: Sequence[Token], i: int, text: str) -> tuple[int, int] | None:
    """A known acronym, with its place if one follows ("ROPS w Białymstoku")."""
    tok = tokens[i]
    if i + 1 < len(tokens) and tok.kind == "word" and tok.text.isupper() and _joined(tokens, i + 1, text):
        pair = f"{tok.text} {tokens[i + 1].text}"
        if tokens[i + 1].text.isupper() and load().by_acronym(pair):
            return (i, i + 2)
    if not _acronym_at(tok):
        return None
    return (i, _place_end(tokens, i + 1, text))


def _keep(span_text: str, entity: Entity, words: int) -> bool:
    """Reject single generic words ("Ośrodek", "Komitet") and non-institution heads."""
    gaz = load()
    if entity in gaz.entity_set():
        return True
    if words < 2:
        return False
    head = nominative_phrase(span_text).head_lemma
    return head not in GAZETTEER_ONLY_HEADS


def extract_mentions(text: str) -> list[Mention]:
    """All institution mentions in ``text``, in order, non-overlapping, each linked to an entity."""
    tokens = tokenize(text)
    found: list[Mention] = []
    # the span rules below are tried only where one could start; elsewhere they all give None
    candidates = [i for i, tok in enumerate(tokens) if tok.kind == "word" and _may_start(tok.text)]
    resume = 0  # the token after the last mention found: mentions do not overlap
    for i in candidates:
        if i < resume:
            continue
        span = _acronym_span(tokens, i, text)
        entity: Entity | None = None
        if span is None:
            span = _named_span(tokens, i, text)
        if span is None:
            category = _category_span(tokens, i)
            if category:
                span, entity = category[:2], category[2]
        if span is None:
            continue
        start, end = tokens[span[0]].start, tokens[span[1] - 1].end
        surface = text[start:end]
        entity = entity or canonicalize(surface)
        words = sum(1 for t in tokens[span[0] : span[1]] if t.kind in {"word", "quote"})
        if span[1] - span[0] == 1 and tokens[span[0]].kind == "word" and _acronym_at(tokens[span[0]]):
            words = 2  # a lone acronym is a full mention
        if not _keep(surface, entity, words):
            continue
        found.append(Mention(surface, start, end, entity))
        resume = span[1]
    return _resolve_in_context(found)


def _resolve_in_context(mentions: list[Mention]) -> list[Mention]:
    """Link a bare acronym or a singular generic name to the known institution with that acronym
    mentioned earlier in the same text ("Regionalny Ośrodek … w Toruniu … ROPS")."""
    gaz = load()
    known = gaz.entity_set()
    generic = _category_keys()
    recent: dict[str, Entity] = {}
    out: list[Mention] = []
    for m in mentions:
        entity = m.entity
        acronym = (entity.acronym or "").upper()
        unresolved = entity.key in generic or (entity not in known and entity.canonical.upper() == acronym)
        if unresolved and acronym in recent and not nominative_phrase(m.text).plural:
            entity = recent[acronym]
            m = Mention(m.text, m.char_start, m.char_end, entity)
        if entity in known and entity.acronym:
            recent[entity.acronym.upper()] = entity
        out.append(m)
    return out


#: Words that join a unit to the body running it inside one name ("Zakład … przy Stowarzyszeniu …").
_JOINING_WORDS = frozenset({"przy"})


def _one_name(text: str, mentions: list[Mention], offset: int) -> bool:
    """Whether the mentions found in a name-like text are parts of one name, not a list."""
    if len(mentions) == 1:
        return True
    for left, right in pairwise(mentions):
        gap = text[left.char_end : right.char_start].split()
        if not gap or not set(gap) <= _JOINING_WORDS:
            return False
    return not text[mentions[-1].char_end :].strip()


def analyse_text(text: str) -> list[Mention]:
    """Mentions for the CLI contract: when the whole text is one name, exactly that one mention.

    The scanner may stop early inside an unusual name ("Zakład … przy Stowarzyszeniu …"); when
    the text starts with a mention and looks like a single name (one line, no sentence end), the
    whole text is canonicalised as one mention instead.
    """
    mentions = extract_mentions(text)
    stripped = text.strip()
    offset = text.find(stripped) if stripped else 0
    if not stripped:
        return []
    if len(mentions) == 1 and mentions[0].text == stripped:
        return mentions
    single_name = (
        "\n" not in stripped
        and not re.search(r"[.!?]\s+\S", stripped)
        and len(stripped.split()) <= 15
        and not stripped.endswith((".", "!", "?"))
    )
    if single_name and mentions and mentions[0].char_start == offset and _one_name(text, mentions, offset):
        return [Mention(stripped, offset, offset + len(stripped), canonicalize(stripped))]
    if single_name and not mentions:
        entity = canonicalize(stripped)
        if entity.kind != "other":
            return [Mention(stripped, offset, offset + len(stripped), entity)]
    return mentions
