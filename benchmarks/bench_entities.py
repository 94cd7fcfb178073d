"""Speed of the entity layer: mentions per second for canonicalisation and for extraction.

Cold = a fresh process, morfeusz2 dictionary load and empty caches included (measured in a
subprocess so this process's own imports do not hide it). Warm = the same work again in a
process that has already seen it, i.e. the steady state of a crawl. A third line measures
warm-analyser but cold-cache speed: the analyser is loaded, the mentions are new.

Run: ``.venv/bin/python benchmarks/bench_entities.py``
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = ROOT / "tests" / "aggregator" / "data" / "entities_eval.jsonl"
SEEDS = ROOT.parent / "shared" / "seeds"

_COLD = """
import json, sys, time
t0 = time.perf_counter()
from aggregator.entities import canonicalize, extract_mentions
mentions = [json.loads(l)["mention"] for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
texts = [open(p, encoding="utf-8").read() for p in sys.argv[2:]]
t1 = time.perf_counter()
for m in mentions:
    canonicalize(m)
t2 = time.perf_counter()
found = sum(len(extract_mentions(t)) for t in texts)
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "canon": t2 - t1, "n": len(mentions), "extract": t3 - t2, "found": found}))
"""


def _corpus() -> tuple[list[str], list[str], list[Path]]:
    mentions = [json.loads(line)["mention"] for line in EVAL.read_text(encoding="utf-8").splitlines() if line]
    seed_paths = sorted(SEEDS.glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in seed_paths]
    return mentions, texts, seed_paths


def main() -> None:
    mentions, texts, seed_paths = _corpus()
    cold = json.loads(
        subprocess.run(
            [sys.executable, "-c", _COLD, str(EVAL), *map(str, seed_paths)],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    total_cold = cold["import"] + cold["canon"]
    print(f"eval mentions: {cold['n']}, seed texts: {len(texts)} ({sum(map(len, texts))} chars)")
    print(
        f"cold  canonicalize: {cold['n'] / total_cold:8.0f} mentions/s "
        f"(import {cold['import']:.2f} s, then {cold['canon']:.2f} s incl. the lazy morfeusz2 load)"
    )
    if cold["found"]:
        print(
            f"cold  extract:      {cold['found'] / cold['extract']:8.0f} mentions/s "
            f"({cold['found']} mentions in {cold['extract']:.3f} s)"
        )

    from aggregator.entities import canonical, canonicalize, extract_mentions

    canonicalize("Ośrodek")  # load the analyser, then time uncached work
    canonical.canonicalize.cache_clear()
    canonical.analyse.cache_clear()
    canonical.nominative_phrase.cache_clear()
    start = time.perf_counter()
    for m in mentions:
        canonicalize(m)
    uncached = time.perf_counter() - start
    print(f"fresh canonicalize: {len(mentions) / uncached:8.0f} mentions/s (analyser loaded, caches empty)")

    rounds = 20
    start = time.perf_counter()
    for _ in range(rounds):
        for m in mentions:
            canonicalize(m)
    warm = time.perf_counter() - start
    print(f"warm  canonicalize: {rounds * len(mentions) / warm:8.0f} mentions/s (cached)")

    if texts:
        start = time.perf_counter()
        found = 0
        for _ in range(rounds):
            for text in texts:
                found += len(extract_mentions(text))
        elapsed = time.perf_counter() - start
        print(
            f"warm  extract:      {found / elapsed:8.0f} mentions/s "
            f"({sum(map(len, texts)) * rounds / elapsed / 1000:.0f} kchars/s)"
        )


if __name__ == "__main__":
    main()
