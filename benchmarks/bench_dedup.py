"""Benchmark: ingest 10k / 100k / 300k synthetic announcements into a StoryIndex.

Run: ``.venv/bin/python benchmarks/bench_dedup.py [--sizes 10000,100000,300000] [--seed 6]``

What is generated (from the real texts in ``scrapers/mirror/texts/*.json``):

* **base announcements**: a real article used as a template, every word replaced with probability
  :data:`MUTATION` by a word drawn from the real vocabulary (frequency-weighted), so each base is a
  distinct text with the length, vocabulary and paragraph shape of the real ones; each gets its own
  event date sentence ("W dniu 12 marca 2019 r. …"), often a deadline, a title, a publication date,
  and a quarter of them a real programme/funding paragraph shared with thousands of others;
* **planted near-duplicates** of a base (same story): a re-post with another CMS's typography,
  a menu/footer and a few edited words; a truncated re-post ("… więcej informacji na stronie …");
  a teaser (first paragraph and "Czytaj więcej...");
* **planted hard negatives** (other story): the same announcement re-issued a year later (every year
  moved by one), and a new announcement that copies one body paragraph of a base (of three or more).

Documents are ingested in publication order (as a crawl backfill would) with
``StoryIndex.add_many(workers=1)``: one extra process computes features and signatures while the
main process does the index work (``--workers 0`` times plain ``StoryIndex.add`` calls).
Each size runs in its own process so peak memory (``ru_maxrss``) is that size's alone. Printed per
size: ingest time, peak RSS and the growth of RSS during ingest (the index itself), judge calls per
document, pairwise precision/recall of the stories against the planted truth, the recall of planted
duplicates and the false-merge rate of planted hard negatives; then time(300k)/time(100k).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aggregator.dedup import Doc, StoryIndex  # noqa: E402

TEXTS = ROOT / "scrapers" / "mirror" / "texts"
MUTATION = 0.5
MONTHS = ("stycznia", "lutego", "marca", "kwietnia", "maja", "czerwca")
MONTHS += ("lipca", "sierpnia", "września", "października", "listopada", "grudnia")
HOSTS = ("mcps.com.pl", "es.mcps-efs.pl", "rops-bialystok.pl", "wrotapodlasia.pl", "es.rops-katowice.pl", "owes.pl")
HEADERS = ("Menu Zamknij", "Skip to content", "Aktualności", "Przejdź do treści")
FOOTERS = (
    "Opublikowano wAktualności, Wyroznione\n\nPowiązane",
    "źródło: ROPS w Białymstoku\noprac.: Anna Augustynowicz\n\nLogo serwisu Twitter Logo serwisu Facebook",
    "Powrót na początek strony",
    "error: Nie kopiuj!!!",
)
YEAR = re.compile(r"(?<!\d)(20[0-4]\d)(?!\d)")


@dataclass
class Corpus:
    """The real material: word table, articles as word-id arrays, titles, shared paragraphs."""

    words: np.ndarray  # object array of whitespace tokens (one entry per occurrence)
    numeric: np.ndarray  # bool per occurrence: the token holds a digit
    articles: list[list[np.ndarray]]
    titles: list[np.ndarray]
    shared: list[str]


def load_corpus() -> Corpus:
    """Real articles from the mirror texts, tokenised on whitespace (punctuation stays attached)."""
    raw_articles: list[list[list[str]]] = []
    raw_titles: list[list[str]] = []
    shared: dict[str, str] = {}
    for path in sorted(TEXTS.glob("*.json")):
        for article in json.loads(path.read_text(encoding="utf-8"))["articles"]:
            paragraphs = ([article["lead"]] if article["lead"] else []) + article["paragraphs"]
            paragraphs = [p for p in paragraphs if len(p.split()) >= 5]
            if not paragraphs:
                continue
            raw_articles.append([p.split() for p in paragraphs])
            if article["title"]:
                raw_titles.append(article["title"].split())
            group = article.get("shares_boilerplate_with")
            if group and len(paragraphs) > 1 and len(paragraphs[-1].split()) >= 15:
                shared.setdefault(group, paragraphs[-1])
    vocabulary: dict[str, int] = {}
    occurrences: list[str] = []

    def ids(words: list[str]) -> np.ndarray:
        out = []
        for w in words:
            if w not in vocabulary:
                vocabulary[w] = len(occurrences)
            occurrences.append(w)
            out.append(len(occurrences) - 1)
        return np.asarray(out, dtype=np.int64)

    articles = [[ids(p) for p in art] for art in raw_articles]
    titles = [ids(t) for t in raw_titles]
    numeric = np.asarray([any(ch.isdigit() for ch in w) for w in occurrences], dtype=bool)
    return Corpus(np.asarray(occurrences, dtype=object), numeric, articles, titles, list(shared.values()))


@dataclass
class Generated:
    """Synthetic documents in ingest order with their true story and planted role."""

    ids: list[str]
    docs: list[Doc]
    truth: list[int]  # true story number
    role: list[str]  # base, repost, truncated, teaser, recurring, shared-paragraph


class Generator:
    """Builds base announcements and plants duplicates and hard negatives around them."""

    def __init__(self, corpus: Corpus, seed: int) -> None:
        self.c = corpus
        self.rng = random.Random(seed)
        self.np = np.random.default_rng(seed)

    def _mutate(self, ids: np.ndarray, rate: float = MUTATION) -> str:
        """Replace words at random; numbers always, so no template date survives into many bases."""
        mask = (self.np.random(ids.size) < rate) | self.c.numeric[ids]
        out = ids.copy()
        out[mask] = self.np.integers(0, self.c.words.size, int(mask.sum()))
        return " ".join(self.c.words[out].tolist())

    def base(self, number: int) -> tuple[Doc, list[str]]:
        rng = self.rng
        template = self.c.articles[rng.randrange(len(self.c.articles))]
        event = date(2012, 1, 1) + timedelta(days=rng.randrange(14 * 365))
        paragraphs = [self._mutate(p) for p in template[:8]]
        paragraphs[0] = f"W dniu {event.day} {MONTHS[event.month - 1]} {event.year} r. " + paragraphs[0]
        if rng.random() < 0.3:
            deadline = event + timedelta(days=rng.randrange(7, 60))
            paragraphs.append(f"Termin składania zgłoszeń upływa {deadline:%d.%m.%Y} r.")
        if rng.random() < 0.25:
            paragraphs.append(rng.choice(self.c.shared))
        title = self._mutate(self.c.titles[rng.randrange(len(self.c.titles))], 0.3)
        published = event - timedelta(days=rng.randrange(0, 30))
        url = f"https://{rng.choice(HOSTS)}/aktualnosci/{number}"
        return Doc(url, title, "\n\n".join(paragraphs), published), paragraphs

    def repost(self, doc: Doc, paragraphs: list[str]) -> Doc:
        rng = self.rng
        words = "\n\n".join(paragraphs).split(" ")
        for _ in range(max(1, len(words) // 40)):  # a few edited words (numbers left alone)
            at = rng.randrange(len(words))
            if not any(ch.isdigit() for ch in words[at]):
                words[at] = str(self.c.words[rng.randrange(self.c.words.size)])
        text = " ".join(words).replace("„", '"').replace("”", '"').replace("–", "-")
        text = f"{rng.choice(HEADERS)}\n\n{doc.title}\n\n{text}\n\n{rng.choice(FOOTERS)}"
        return Doc(f"https://{rng.choice(HOSTS)}/repost/{rng.randrange(10**9)}", doc.title, text, self._later(doc))

    def truncated(self, doc: Doc, paragraphs: list[str]) -> Doc:
        if len(paragraphs) >= 2:
            text = "\n\n".join(paragraphs[: (len(paragraphs) + 1) // 2])
        else:
            words = paragraphs[0].split(" ")
            text = " ".join(words[: max(12, len(words) // 2)])
        text += f" … więcej informacji na stronie {self.rng.choice(HOSTS)}"
        return Doc(f"https://{self.rng.choice(HOSTS)}/{self.rng.randrange(10**9)}", doc.title, text, self._later(doc))

    def teaser(self, doc: Doc, paragraphs: list[str]) -> Doc:
        lead = " ".join(paragraphs[0].split(" ")[:60])
        url = f"https://{self.rng.choice(HOSTS)}/?p={self.rng.randrange(10**6)}"
        return Doc(url, doc.title, lead + "\n\nCzytaj więcej...", self._later(doc))

    def recurring(self, doc: Doc) -> Doc:
        def shift(text: str) -> str:
            return YEAR.sub(lambda m: str(int(m.group(1)) + 1), text)

        published = doc.published + timedelta(days=365) if isinstance(doc.published, date) else None
        return Doc(doc.url + "-kolejna-edycja", shift(doc.title), shift(doc.text), published)

    def _later(self, doc: Doc) -> date | None:
        if not isinstance(doc.published, date) or self.rng.random() < 0.3:
            return None  # many re-posting sites show no date
        return doc.published + timedelta(days=self.rng.randrange(0, 4))

    def generate(self, total: int) -> Generated:
        rows: list[tuple[date, str, Doc, int, str]] = []
        story = 0
        while len(rows) < total:
            base, paragraphs = self.base(story)
            assert isinstance(base.published, date)
            when = base.published
            rows.append((when, f"b{story}", base, story, "base"))
            r = self.rng.random()
            copy = None
            if r < 0.15:
                copy = ("r", self.repost(base, paragraphs), "repost")
            elif r < 0.23:
                copy = ("t", self.truncated(base, paragraphs), "truncated")
            elif r < 0.31:
                copy = ("s", self.teaser(base, paragraphs), "teaser")
            if copy is not None:
                rows.append((when + timedelta(days=1), f"{copy[0]}{story}", copy[1], story, copy[2]))
            r = self.rng.random()
            if r < 0.06:
                story += 1
                rows.append((when + timedelta(days=365), f"n{story}", self.recurring(base), story, "recurring"))
            elif r < 0.10 and len(paragraphs) >= 3:
                story += 1
                other, _ = self.base(story)
                extra = self.rng.choice(paragraphs[1:])  # a body paragraph, not the lead
                mixed = Doc(other.url, other.title, other.text + "\n\n" + extra, other.published)
                rows.append((when + timedelta(days=2), f"p{story}", mixed, story, "shared-paragraph"))
            story += 1
        rows = rows[:total]
        rows.sort(key=lambda row: row[0])
        return Generated([r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows], [r[4] for r in rows])


def _pairs(counts: Counter[Any]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def evaluate(gen: Generated, predicted: list[str]) -> dict[str, float]:
    """Pairwise precision/recall of predicted stories vs planted truth, and per-role rates."""
    true_pairs = _pairs(Counter(gen.truth))
    pred_pairs = _pairs(Counter(predicted))
    both = _pairs(Counter(zip(gen.truth, predicted, strict=True)))
    story_of_base = {t: p for t, p, role in zip(gen.truth, predicted, gen.role, strict=True) if role == "base"}
    base_of_negative: dict[int, int] = {}
    for doc_id, t in zip(gen.ids, gen.truth, strict=True):
        if doc_id[0] in "np":
            base_of_negative[t] = t - 1  # negatives are numbered right after their base
    found: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for t, p, role in zip(gen.truth, predicted, gen.role, strict=True):
        if role in ("repost", "truncated", "teaser"):
            total[role] += 1
            found[role] += p == story_of_base.get(t)
        elif role in ("recurring", "shared-paragraph"):
            total[role] += 1
            found[role] += p == story_of_base.get(base_of_negative[t])
    out = {
        "precision": both / pred_pairs if pred_pairs else 1.0,
        "recall": both / true_pairs if true_pairs else 1.0,
    }
    for role in total:
        out[role] = found[role] / total[role]
    return out


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run_one(size: int, seed: int, workers: int) -> dict[str, Any]:
    """Generate ``size`` documents, ingest them, return the measurements (runs in a child process)."""
    t0 = time.perf_counter()
    gen = Generator(load_corpus(), seed).generate(size)
    generated = time.perf_counter() - t0
    rss_before = _rss_mb()
    index = StoryIndex()
    start = time.perf_counter()
    max_judged = 0
    for _ in index.add_many(zip(gen.ids, gen.docs, strict=True), workers=workers):
        max_judged = max(max_judged, index.last_judged)
    ingest = time.perf_counter() - start
    rss_after = _rss_mb()
    predicted = [index.story_of(doc_id) for doc_id in gen.ids]
    quality = evaluate(gen, predicted)
    return {
        "size": size,
        "workers": workers,
        "generate_s": generated,
        "ingest_s": ingest,
        "docs_per_s": size / ingest,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "index_rss_mb": rss_after - rss_before,
        "judge_per_doc": index.judge_calls / size,
        "max_judged": max_judged,
        "stories": len(set(predicted)),
        "roles": dict(Counter(gen.role)),
        **quality,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,300000", help="comma-separated document counts")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument(
        "--workers", type=int, default=1, help="feature worker processes for StoryIndex.add_many (0 = plain add)"
    )
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child-process mode
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args.seed, args.workers)))
        return
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        child = [sys.executable, __file__, "--one", str(size), "--seed", str(args.seed), "--workers", str(args.workers)]
        out = subprocess.run(child, check=True, capture_output=True, text=True, cwd=ROOT).stdout
        res = json.loads(out.strip().splitlines()[-1])
        results.append(res)
        print(
            f"{res['size']:>7} docs  ingest {res['ingest_s']:7.1f} s ({res['docs_per_s']:6.0f}/s)  "
            f"peak RSS {res['peak_rss_mb']:6.0f} MB (index +{res['index_rss_mb']:5.0f} MB)  "
            f"judge/doc {res['judge_per_doc']:.2f} (max {res['max_judged']})  "
            f"P {res['precision']:.4f} R {res['recall']:.4f}  "
            f"dups found: repost {res.get('repost', 0):.3f} truncated {res.get('truncated', 0):.3f} "
            f"teaser {res.get('teaser', 0):.3f}  false merges: recurring {res.get('recurring', 0):.4f} "
            f"shared-paragraph {res.get('shared-paragraph', 0):.4f}  (generation {res['generate_s']:.0f} s)",
            flush=True,
        )
    by_size = {r["size"]: r["ingest_s"] for r in results}
    if 100000 in by_size and 300000 in by_size:
        print(f"time(300k)/time(100k) = {by_size[300000] / by_size[100000]:.2f} (linear = 3)")


if __name__ == "__main__":
    main()
