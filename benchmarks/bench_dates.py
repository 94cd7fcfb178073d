"""Benchmark: our Polish date layer against plain dateparser on the repo's evaluation set.

Run: ``.venv/bin/python benchmarks/bench_dates.py [--repeat N]``

Both sides see the same inputs in one run.  Two accuracies are printed because dateparser can
only ever return one value per call:

* item level – the whole evaluation text goes in; an item is right when the list of
  (start, end) pairs equals the expected list.  For dateparser the list is its single result
  (or nothing), which is why it cannot get ranges or texts with two dates right;
* expression level – every expected date expression alone (its ``match`` string) goes in;
  a point is right when the value equals the expected start (ranges need an end, so dateparser
  cannot get them right; ours must give the exact (start, end)).

dateparser gets the item's reference date as ``RELATIVE_BASE`` so that year-less dates and
``br.`` have a fair chance.  Times are wall-clock means per call over ``--repeat`` passes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import dateparser  # noqa: E402

from aggregator.dates import find_dates, parse_date, span_to_json  # noqa: E402

EVAL_PATH = ROOT / "tests" / "aggregator" / "data" / "dates_eval.jsonl"
Pair = tuple[str, str | None]


def load_items(path: Path = EVAL_PATH) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def expected_pairs(item: dict[str, Any]) -> list[Pair]:
    return [(e["start"], e["end"]) for e in item["expected"]]


def ours_pairs(text: str, reference: date) -> list[Pair]:
    return [(j["start"], j["end"]) for j in (span_to_json(s) for s in find_dates(text, reference))]


def _format_dateparser(value: datetime, like: str) -> str:
    """Render dateparser's datetime at the precision of the expected value it is judged against."""
    return value.strftime("%Y-%m-%dT%H:%M") if "T" in like else value.date().isoformat()


def dateparser_pairs(text: str, reference: date, expected: list[Pair]) -> list[Pair]:
    value = dateparser.parse(
        text, languages=["pl"], settings={"RELATIVE_BASE": datetime.combine(reference, datetime.min.time())}
    )
    if value is None:
        return []
    like = expected[0][0] if expected else ""
    return [(_format_dateparser(value, like), None)]


def timed(calls: Iterable[Callable[[], object]], repeat: int) -> float:
    """Mean seconds per call."""
    calls = list(calls)
    start = time.perf_counter()
    for _ in range(repeat):
        for call in calls:
            call()
    return (time.perf_counter() - start) / (repeat * len(calls))


def item_accuracy(items: list[dict[str, Any]]) -> tuple[float, float]:
    ours = dp = 0
    for item in items:
        ref = date.fromisoformat(item["reference"])
        want = expected_pairs(item)
        ours += ours_pairs(item["text"], ref) == want
        dp += dateparser_pairs(item["text"], ref, want) == want
    return ours / len(items), dp / len(items)


def expressions(items: list[dict[str, Any]]) -> list[tuple[str, date, Pair]]:
    return [
        (e["match"], date.fromisoformat(item["reference"]), (e["start"], e["end"]))
        for item in items
        for e in item["expected"]
        if e.get("match")
    ]


def expression_accuracy(exprs: list[tuple[str, date, Pair]]) -> tuple[float, float]:
    ours = dp = 0
    for text, ref, want in exprs:
        span = parse_date(text, ref)
        got = (span_to_json(span)["start"], span_to_json(span)["end"]) if span else None
        ours += got == want
        dp += dateparser_pairs(text, ref, [want]) == [want]
    return ours / len(exprs), dp / len(exprs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timing passes over the set")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")  # dateparser's own deprecation chatter is not our result

    items = load_items()
    exprs = expressions(items)
    find_dates("rozgrzewka 1 marca 2024 r., wczoraj", date(2024, 3, 1))  # build caches fairly
    dateparser.parse("1 marca 2024", languages=["pl"])

    ours_item_acc, dp_item_acc = item_accuracy(items)
    ours_expr_acc, dp_expr_acc = expression_accuracy(exprs)

    refs = [date.fromisoformat(i["reference"]) for i in items]
    ours_t = timed(
        ((lambda t=i["text"], r=ref: find_dates(t, r)) for i, ref in zip(items, refs, strict=True)), args.repeat
    )
    dp_t = timed(
        (
            (
                lambda t=i["text"], r=ref: dateparser.parse(
                    t, languages=["pl"], settings={"RELATIVE_BASE": datetime.combine(r, datetime.min.time())}
                )
            )
            for i, ref in zip(items, refs, strict=True)
        ),
        args.repeat,
    )
    ours_et = timed(((lambda t=t, r=r: parse_date(t, r)) for t, r, _ in exprs), args.repeat)
    dp_et = timed(
        (
            (
                lambda t=t, r=r: dateparser.parse(
                    t, languages=["pl"], settings={"RELATIVE_BASE": datetime.combine(r, datetime.min.time())}
                )
            )
            for t, r, _ in exprs
        ),
        args.repeat,
    )

    print(f"evaluation set: {len(items)} items, {len(exprs)} expressions ({EVAL_PATH.relative_to(ROOT)})")
    print(f"{'':28}{'ours':>12}{'dateparser':>14}")
    print(f"{'item accuracy':28}{ours_item_acc:>12.1%}{dp_item_acc:>14.1%}")
    print(f"{'expression accuracy':28}{ours_expr_acc:>12.1%}{dp_expr_acc:>14.1%}")
    print(f"{'mean time per item':28}{ours_t * 1e6:>10.1f}µs{dp_t * 1e6:>12.1f}µs")
    print(f"{'mean time per expression':28}{ours_et * 1e6:>10.1f}µs{dp_et * 1e6:>12.1f}µs")
    print(
        f"speed ratio (dateparser / ours): {dp_t / ours_t:.1f}× per item, "
        f"{dp_et / ours_et:.1f}× per expression (target ≥ 20×)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
