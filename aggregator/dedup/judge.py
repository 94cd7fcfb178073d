"""The pair decision: are two announcements the same story?

The decision reads like the checklist an editor would use, in this order:

1. **Identical after normalisation** → same (the exact fingerprint).
2. **Titles name different editions** (different years, different Roman edition numbers) → different:
   "Konkurs … 2020" and "Konkurs … 2021" share their template, not their news.
3. **How much of the shorter text is inside the longer one** (*containment* of word 3-grams). It is
   what separates a re-post, a truncated re-post or a teaser (the shorter text is almost entirely in
   the longer: containment near 1 although Jaccard is low) from two news items that share a
   programme paragraph or a boilerplate block (containment well below one half).
4. **Dates** (:mod:`aggregator.dates`): two texts that mention specific days with no day in common
   are different events – the same recurring call in another year, the next meeting of the same
   committee – however much text they share. Failing days, two texts that each mention a year the
   other does not are different editions. A shared specific day is positive evidence.
5. **Title similarity** breaks the middle cases: with half of the text shared, related titles (or,
   when a title is missing, an agreeing specific day) make a light edit; unrelated titles, or days
   that only partly agree, make two items of one series. A *rewrite* (same event, own words: little
   text shared) is accepted only with nearly the same title *and* an agreeing specific day, so a
   shared paragraph alone never merges two stories.

Thresholds are round numbers chosen from what the texts look like (a teaser is a prefix, a shared
programme paragraph is typically a quarter of a post), then checked on the labelled evaluation set
``tests/aggregator/data/dedup_pairs.jsonl``; they are not fitted to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aggregator.dedup.features import Features, features
from aggregator.dedup.model import Doc, Judgement

__all__ = ["containment", "decide", "judge", "judge_features", "title_similarity"]

HIGH = 0.80  # the shorter text is (almost) entirely inside the longer: re-post, truncation, teaser
MID = 0.50  # half of it: a light edit when the titles (or the dates) agree
LOW = 0.15  # below this, two texts only share phrases
MIN_SHINGLES = 12  # shorter texts than this cannot show containment by themselves
TITLE_UNRELATED = 0.15
TITLE_RELATED = 0.50
TITLE_CLOSE = 0.80
PUBLISHED_GAP_DAYS = 400


@dataclass(frozen=True)
class _DateRelation:
    kind: str  # "agree", "partial", "conflict", "unknown"
    detail: str
    weight: float  # evidence for "same" in 0..1


def containment(fa: Features, fb: Features) -> tuple[float, int]:
    """Share of the shorter body's shingles found in the longer one, and the shorter size."""
    na, nb = fa.shingles.size, fb.shingles.size
    short = min(na, nb)
    if short == 0:
        return 0.0, 0
    inter = np.intersect1d(fa.shingles, fb.shingles, assume_unique=True).size
    return inter / short, short


def title_similarity(fa: Features, fb: Features) -> float | None:
    """Overlap of the title stems (0..1), or ``None`` when a title is missing or too short to tell."""
    a, b = fa.title_stems, fb.title_stems
    if len(a) < 2 or len(b) < 2:
        return None
    return len(a & b) / min(len(a), len(b))


def _title_conflict(fa: Features, fb: Features) -> str | None:
    if fa.title_years and fb.title_years and fa.title_years.isdisjoint(fb.title_years):
        return f"titles name different years: {_years(fa.title_years)} vs {_years(fb.title_years)}"
    if fa.title_editions and fb.title_editions and fa.title_editions.isdisjoint(fb.title_editions):
        ea = ", ".join(sorted(e.upper() for e in fa.title_editions))
        eb = ", ".join(sorted(e.upper() for e in fb.title_editions))
        return f"titles name different editions: {ea} vs {eb}"
    return None


def _years(years: frozenset[int]) -> str:
    return ", ".join(str(y) for y in sorted(years))


def _day_text(day: tuple[int, int, int]) -> str:
    year, month, dom = day
    return f"{year:04d}-{month:02d}-{dom:02d}" if year else f"--{month:02d}-{dom:02d}"


def _matches(x: tuple[int, int, int], y: tuple[int, int, int]) -> bool:
    return x[1:] == y[1:] and (x[0] == y[0] or x[0] == 0 or y[0] == 0)


def _publication_days(fa: Features, fb: Features) -> list[tuple[int, int, int]]:
    return [(p.year, p.month, p.day) for p in (fa.published, fb.published) if p is not None]


def _date_relation(fa: Features, fb: Features) -> _DateRelation:
    # A day that is the publication date of either page is set aside on both sides: a date line
    # ("14-06-2021 eKurier") prints it on one copy only, and a report published on the day of the
    # event names it while an undated copy of the same report cannot be told apart by it.
    published = _publication_days(fa, fb)
    da = {x for x in fa.dates.days if not any(_matches(x, p) for p in published)}
    db = {y for y in fb.dates.days if not any(_matches(y, p) for p in published)}
    if da and db:
        shared = sorted(x for x in da if any(_matches(x, y) for y in db))
        if not shared:
            return _DateRelation(
                "conflict", f"different event dates: {_day_text(min(da))} vs {_day_text(min(db))}", 0.0
            )
        only_b = [y for y in db if not any(_matches(x, y) for x in da)]
        if len(shared) < len(da) and only_b:
            return _DateRelation("partial", f"dates only partly agree ({_day_text(shared[0])} in both)", 0.5)
        return _DateRelation("agree", f"dates agree ({_day_text(shared[0])})", 1.0)
    ya, yb = fa.dates.years, fb.dates.years
    if ya and yb and (ya - yb) and (yb - ya):
        return _DateRelation("conflict", f"different years: {_years(ya - yb)} vs {_years(yb - ya)}", 0.0)
    if fa.published and fb.published and abs((fa.published - fb.published).days) > PUBLISHED_GAP_DAYS:
        gap = abs((fa.published - fb.published).days)
        return _DateRelation("conflict", f"published {gap} days apart", 0.0)
    return _DateRelation("unknown", "no dates to compare", 0.5)


def _strength(c: float, t: float | None, date_weight: float) -> float:
    return 0.6 * c + 0.25 * (c if t is None else t) + 0.15 * date_weight


def _same(c: float, t: float | None, dates: _DateRelation, what: str) -> Judgement:
    score = 0.5 + 0.5 * _strength(c, t, dates.weight)
    titles = "titles not compared" if t is None else f"titles {t:.2f} similar"
    return Judgement(True, round(min(1.0, score), 3), f"{what} (containment {c:.2f}), {titles}, {dates.detail}")


def _different(c: float, t: float | None, date_weight: float, reason: str) -> Judgement:
    score = min(0.49, 0.5 * _strength(c, t, date_weight))
    return Judgement(False, round(score, 3), reason)


def judge_features(fa: Features, fb: Features) -> Judgement:
    """:func:`judge` on precomputed features (the index keeps them per announcement)."""
    return decide(fa, fb)[0]


def decide(fa: Features, fb: Features) -> tuple[Judgement, bool]:
    """The judgement and whether it is a *conflict* (different dates, years or editions).

    A conflict is stronger than "not similar enough": the story index uses it to keep a newcomer
    out of a story one of whose members it conflicts with, even when another member (say, an
    undated teaser) would accept it – otherwise a teaser could chain two editions of a call.
    """
    if fa.fingerprint == fb.fingerprint and len(fa.shingles) and len(fb.shingles):
        return Judgement(True, 1.0, "identical text after normalisation"), False
    # Two pages with no text beyond their titles (a poster, a file alone) share a fingerprint when
    # their titles agree: "Zaproszenie" of one site in 2023 and of another in 2024 are not one
    # story for that, so without text nothing is compared and each stays on its own.
    c, short = containment(fa, fb)
    if short == 0:
        return Judgement(False, 0.0, "no text to compare"), False
    c_eff = c * min(1.0, short / MIN_SHINGLES)
    t = title_similarity(fa, fb)
    conflict = _title_conflict(fa, fb)
    if conflict:
        return _different(c_eff, t, 0.0, f"{conflict} (containment {c:.2f})"), True
    if c_eff < LOW:
        return _different(c_eff, t, 0.5, f"different texts (containment {c:.2f})"), False
    dates = _date_relation(fa, fb)
    if dates.kind == "conflict":
        return _different(c_eff, t, 0.0, f"{dates.detail} (containment {c:.2f})"), True
    return _by_containment(c, c_eff, t, dates), False


def _by_containment(c: float, c_eff: float, t: float | None, dates: _DateRelation) -> Judgement:
    if c_eff >= HIGH:
        if t is not None and t < TITLE_UNRELATED:
            return _different(c_eff, t, dates.weight, f"titles unrelated ({t:.2f}) although text overlaps ({c:.2f})")
        return _same(c, t, dates, "same text")
    if c_eff >= MID:
        if dates.kind == "partial":
            return _different(c_eff, t, dates.weight, f"shares part of the text ({c:.2f}) but {dates.detail}")
        if t is None:
            if dates.kind == "agree":
                return _same(c, t, dates, "edited copy")
            return _different(
                c_eff, t, dates.weight, f"shares part of the text ({c:.2f}); no title or date confirms it"
            )
        if t >= TITLE_RELATED:
            return _same(c, t, dates, "edited copy")
        return _different(c_eff, t, dates.weight, f"shares part of the text ({c:.2f}) but titles differ ({t:.2f})")
    if dates.kind == "agree" and t is not None and t >= TITLE_CLOSE:
        return _same(c, t, dates, "rewritten report of the same event")
    return _different(c_eff, t, dates.weight, f"shares one paragraph only (containment {c:.2f})")


def judge(a: Doc, b: Doc) -> Judgement:
    """Decide whether ``a`` and ``b`` are the same story (the decision the pipeline makes)."""
    return judge_features(features(a), features(b))
