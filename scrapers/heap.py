"""Garbage-collector settings for the crawl process and its workers.

A crawl allocates millions of short-lived objects (requests, responses, items, parse trees) beside
a large heap that lives for the whole run (the imported modules, the registry, the worker pool, the
story index after it). With CPython's default thresholds (700, 10, 10) that means about two
thousand collections in a 5,000-page crawl, and the full ones walk the long-lived heap every time:
2.8 of the crawl process's 11 CPU seconds in benchmarks/bench_crawl.py. Two standard measures:

* `gc.freeze()` once the long-lived start-up objects exist: the collector leaves them alone (the
  Python documentation recommends it before forking workers, whose copy-on-write pages it also
  keeps unshared);
* a higher first threshold (`THRESHOLDS`), so a collection runs after a million allocations
  instead of 700. Reference cycles are still collected, later.

Together: 2.8 s → 0.6 s of collection in the crawl process at a threshold of 50,000. The parse
trees, the workers' cyclic garbage, are taken apart now (scrapers/extraction/soup.py: `discard`)
and what is left is little, so the threshold went up to a million: the collections of a benchmark
crawl 0.56–0.66 → 0.12–0.16 CPU seconds (the crawl process and its two workers together; 200,000:
0.42), its peak memory 266–269 → 285–288 MB. Cycles are not what a crawl leaks, so nothing is lost
by collecting them less often.

Before that, a command's start (`startup_heap`: the CLI's imports; for a crawl also its own, the
registry, the schema, the run's records) collects nothing at all, and what it built is frozen: it
lives as long as the process, and the start leaves next to no garbage, yet with the default
thresholds the collector walked that growing heap ~370 times, 0.15–0.2 s of a crawl's start of
1.1–1.6 s, the one stretch when only the crawl process works.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["THRESHOLDS", "crawl_heap", "startup_heap", "tune_worker"]

THRESHOLDS = (1_000_000, 20, 100)


@contextmanager
def startup_heap() -> Iterator[None]:
    """Within: no collections at all; after, what was built meanwhile is frozen (later collections
    leave it alone: re-enabled without that, the next one walked all of it) and the collector is
    back as it was (a command's start: see the module's docstring)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()


@contextmanager
def crawl_heap() -> Iterator[None]:
    """Within: what exists now is frozen and collections are rarer; after, the thresholds as before
    and nothing frozen (`gc.unfreeze` is all or nothing: what a `startup_heap` froze is collectable
    again too)."""
    previous = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*previous)
        gc.unfreeze()


def tune_worker() -> None:
    """For a worker process, once it has loaded what it needs: the same settings for its lifetime."""
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
