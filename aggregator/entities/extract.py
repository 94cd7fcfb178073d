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
from functools import cache, lru_cache
from itertools import compress, count, pairwise

from aggregator.entities import categories
from aggregator.entities.canonical import HEAD_LEMMAS, canonicalize, nominative_phrase
from aggregator.entities.gazetteer import load
from aggregator.entities.model import Entity, Mention
from aggregator.entities.morphology import analyse
from aggregator.entities.text import TokenColumns, is_all_caps, is_capitalised, kind_of, token_columns

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
def _pair_first_words() -> frozenset[str]:
    """The first words of the gazetteer's two-word acronyms ("UM WM"), as `by_acronym` compares
    them (upper case): the pair rule of `_acronym_span` can start only at one of these."""
    pairs = [acronym.split(" ") for acronym in load().known_acronyms()]
    return frozenset(words[0] for words in pairs if len(words) == 2)


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
def _may_be_function_word(word: str) -> bool:
    """A word that may be a preposition or a conjunction ("w", "z", "i", "do"): no phrase ends
    with one, though the canonical form drops it and so would let the phrase take it."""
    return any(r.pos in {"prep", "conj"} for r in analyse(word))


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
    """Whether a word token can open any span, from the word alone: an acronym span needs the
    first word of a two-word acronym in the gazetteer ("UM" of "UM WM", looked up with the next
    token, both all-caps) or a known acronym (`_acronym_span`); a named mention a word that may
    open a name and is a head noun or an adjective (the first test of `_named_span`'s loop); a
    category phrase a category head or premodifier (`_category_span`).

    Most tokens can open nothing: lower-case words, capitalised words that are neither heads nor
    adjectives ("Zapraszamy", names of people and places), and all-caps words that are neither
    ("W", "II", "JST"). The scanner skips them at the cost of one cached lookup instead of trying
    the three span rules on each."""
    return (
        (word.isupper() and word.upper() in _pair_first_words())
        or _acronym_of(word) is not None
        or (_may_open_name(word) and (_is_head_word(word) or _is_adjective_word(word)))
        or _may_start_category(word)
    )


@lru_cache(maxsize=65536)
def _may_open_name(word: str) -> bool:
    """A named mention opens with a capital, but not with a short all-caps word (an acronym)."""
    return is_capitalised(word) and not (is_all_caps(word) and len(word) < 5)


# The span rules read the tokens as columns (`TokenColumns`: text, start and kind, index i
# for token i): `extract_mentions` looks at a few tokens around each candidate only, and building
# an object for every token of a page cost more than all the rules together.


def _is_head(tokens: TokenColumns, j: int) -> bool:
    return tokens.kind[j] == "word" and _is_head_word(tokens.text[j])


def _is_adjective(tokens: TokenColumns, j: int) -> bool:
    return tokens.kind[j] == "word" and _is_adjective_word(tokens.text[j])


def _acronym_at(tokens: TokenColumns, j: int) -> str | None:
    """The acronym token j spells (suffix stripped), if it is one we look for."""
    return _acronym_of(tokens.text[j]) if tokens.kind[j] == "word" else None


def _joined(tokens: TokenColumns, i: int, text: str) -> bool:
    """Whether token i follows token i-1 on the same line (names never span a line break)."""
    return i > 0 and "\n" not in text[tokens.end(i - 1) : tokens.start[i]]


def _place_end(tokens: TokenColumns, i: int, text: str) -> int:
    """If a place ("w Zielonej Górze") starts at token i, the index after it; else i."""
    words, kinds = tokens.text, tokens.kind
    if i >= len(words) or words[i] not in _PLACE_WORDS or not _joined(tokens, i, text):
        return i
    j = i + 1
    while (
        j < len(words)
        and _joined(tokens, j, text)
        and kinds[j] == "word"
        and is_capitalised(words[j])
        and not _acronym_at(tokens, j)
    ):
        j += 1
    return j if j > i + 1 else i


def _name_end(tokens: TokenColumns, head: int, text: str) -> int:
    """Index after the last token of a name whose head noun is at ``head``."""
    words, kinds = tokens.text, tokens.kind
    j = head + 1
    n = len(words)
    while j < n and _joined(tokens, j, text):
        word, kind = words[j], kinds[j]
        if kind == "quote":
            return _place_end(tokens, j + 1, text)
        if kind == "abbrev":
            if word in {"Nr.", "nr."} and j + 1 < n and kinds[j + 1] == "number":
                j += 2
                continue
            if word not in _CONNECTORS:  # "S.A.", "sp. z o.o." end company names
                j += 1
                continue
        if kind == "word" and word in {"Nr", "nr"} and j + 1 < n and kinds[j + 1] == "number":
            j += 2
            continue
        if kind == "word" and word in _PLACE_WORDS:
            return _place_end(tokens, j, text)
        if kind == "word" and is_capitalised(word):
            if _acronym_at(tokens, j) or _counts_what_follows(tokens, j, text):
                return j
            j += 1
            continue
        if word in _CONNECTORS and j + 1 < n and _joined(tokens, j + 1, text):
            nxt = j + 1
            if words[nxt] in {"rzecz", "Rzecz", "spraw", "Spraw"}:
                nxt += 1
            if nxt < n and _joined(tokens, nxt, text) and _name_word(tokens, nxt):
                # "im. J. Korczaka": an initial with its dot belongs to the name too.
                j = nxt + 1
                if j + 1 < n and len(words[nxt]) == 1 and words[j] == ".":
                    j += 1
                continue
            return j
        if word == "," and _comma_continues(tokens, j, text):
            j += 1
            continue
        return j
    return j


def _counts_what_follows(tokens: TokenColumns, j: int, text: str) -> bool:
    """Token j is a Roman numeral counting the next word: "IV kadencji", "II edycji"."""
    nxt = j + 1
    return (
        _ROMAN.fullmatch(tokens.text[j]) is not None
        and nxt < len(tokens.text)
        and _joined(tokens, nxt, text)
        and bool(_lemmas(tokens.text[nxt], "subst") & _COUNTED_NOUNS)
    )


def _name_word(tokens: TokenColumns, j: int) -> bool:
    """Token j is a capitalised word or quoted name that continues a name after a connector."""
    return (
        tokens.kind[j] in {"word", "quote"}
        and is_capitalised(tokens.text[j].lstrip('„“"'))
        and not _is_head(tokens, j)
        and not _acronym_at(tokens, j)
    )


def _comma_continues(tokens: TokenColumns, j: int, text: str) -> bool:
    """ "Ministerstwo Rodziny, Pracy i Polityki Społecznej": a comma inside a name is followed by
    capitalised non-head words and then "i" + a capitalised word."""
    words = tokens.text
    k = j + 1
    if k >= len(words) or not _joined(tokens, k, text) or not _name_word(tokens, k):
        return False
    for m in range(k + 1, min(k + 4, len(words) - 1)):
        if not _joined(tokens, m, text):
            return False  # names never span a line break
        if words[m] == "i" and is_capitalised(words[m + 1]) and _joined(tokens, m + 1, text):
            return all(tokens.kind[x] == "word" and is_capitalised(words[x]) for x in range(k, m))
    return False


def _named_span(tokens: TokenColumns, i: int, text: str) -> tuple[int, int] | None:
    """A capitalised name starting at token i: optional adjectives, a head noun, the rest."""
    words, kinds = tokens.text, tokens.kind
    if kinds[i] != "word" or not _may_open_name(words[i]):
        return None
    j = i
    while j < len(words) and j - i <= _MAX_PRE_ADJECTIVES:
        if kinds[j] != "word" or not is_capitalised(words[j]) or (j > i and not _joined(tokens, j, text)):
            return None
        if _is_head_word(words[j]):
            break
        if not _is_adjective_word(words[j]):
            return None
        j += 1
    else:
        return None
    if j > i and i > 0 and _joined(tokens, i, text):
        prev = words[i - 1]
        title = bool(_lemmas(prev, "subst") & TITLE_NOUNS)
        if kinds[i - 1] == "word" and is_capitalised(prev) and not title and not _sentence_initial(tokens, i - 1, text):
            return None  # the adjective belongs to the previous noun: "Funduszu Społecznego"
    end = _name_end(tokens, j, text)
    return (i, end)


def _sentence_initial(tokens: TokenColumns, i: int, text: str) -> bool:
    """Whether token i opens a sentence or a line (its capital letter says nothing then)."""
    return i == 0 or not _joined(tokens, i, text) or tokens.text[i - 1] in {".", "!", "?", ":", "–", "-"}


def _category_span(tokens: TokenColumns, i: int, text: str) -> tuple[int, int, Entity] | None:
    """A generic category phrase in lower case ("centrów integracji społecznej"), on one line."""
    words, kinds = tokens.text, tokens.kind
    if kinds[i] != "word" or not _may_start_category(words[i]):
        return None
    for length in (5, 4, 3, 2):
        end = i + length
        if (
            end > len(words)
            or any(
                kinds[x] != "word" or words[x][:1].isupper() or not _joined(tokens, x, text) for x in range(i + 1, end)
            )
            or _may_be_function_word(words[end - 1])
        ):
            continue
        span = " ".join(words[i:end])
        entity = canonicalize(span)
        if entity.key in _category_keys() and entity.kind in _CATEGORY_KINDS_IN_LOWER_CASE:
            return (i, end, entity)
    return None


def _acronym_span(tokens: TokenColumns, i: int, text: str) -> tuple[int, int] | None:
    """A known acronym, with its place if one follows ("ROPS w Białymstoku")."""
    words = tokens.text
    word = words[i]
    if i + 1 < len(words) and tokens.kind[i] == "word" and word.isupper() and _joined(tokens, i + 1, text):
        pair = f"{word} {words[i + 1]}"
        if words[i + 1].isupper() and load().by_acronym(pair):
            return (i, i + 2)
    if not _acronym_at(tokens, i):
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


class _Starts(dict[str, bool]):
    """token text → whether a span may start at a token with this text: a word (`kind_of`) that
    passes `_may_start`. One dictionary lookup per token, done by `map` in C: the list
    comprehension that asked both per token cost as much as all the span rules."""

    def __missing__(self, token: str) -> bool:
        verdict = self[token] = kind_of(token) == "word" and _may_start(token)
        return verdict


_STARTS = _Starts()
_STARTS_SIZE = 100_000
_WORD_KINDS = frozenset({"word", "quote"})


def extract_mentions(text: str) -> list[Mention]:
    """All institution mentions in ``text``, in order, non-overlapping, each linked to an entity."""
    if len(_STARTS) >= _STARTS_SIZE:
        _STARTS.clear()
    tokens = token_columns(text)
    words, starts, kinds = tokens
    found: list[Mention] = []
    # the span rules below are tried only where one could start; elsewhere they all give None
    candidates = compress(count(), map(_STARTS.__getitem__, words))
    resume = 0  # the token after the last mention found: mentions do not overlap
    for i in candidates:
        if i < resume:
            continue
        span = _acronym_span(tokens, i, text)
        entity: Entity | None = None
        if span is None:
            span = _named_span(tokens, i, text)
        if span is None:
            category = _category_span(tokens, i, text)
            if category:
                span, entity = category[:2], category[2]
        if span is None:
            continue
        first, after = span
        start, end = starts[first], tokens.end(after - 1)
        surface = text[start:end]
        entity = entity or canonicalize(surface)
        n_words = sum(map(_WORD_KINDS.__contains__, kinds[first:after]))
        if after - first == 1 and kinds[first] == "word" and _acronym_of(words[first]):
            n_words = 2  # a lone acronym is a full mention
        if not _keep(surface, entity, n_words):
            continue
        found.append(Mention(surface, start, end, entity))
        resume = after
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
