"""MinHash permutations and LSH band tables, laid out exactly as datasketch lays out its own.

The story index (:mod:`aggregator.dedup.index`) computes its MinHash values vectorised and reads
and fills the band buckets directly (the most frequent steps of a crawl's story step), so of
datasketch it only needed the permutation parameters and the empty tables of a ``MinHashLSH``.
Importing datasketch costs more than everything else here: its LSH module imports
``scipy.integrate`` (only to choose the band parameters), 0.4–0.7 s of the start of every crawl,
serial, before any page is fetched (benchmarks/bench_crawl.py). Those three things are small and
fixed by datasketch's published algorithm, so they are computed here; the tests compare every one
of them with datasketch itself (permutations, band parameters over a grid of thresholds, band
keys, and ``MinHashLSH.query``/``insert``/``remove`` on the same tables).
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``MinHash(num_perm=num_perm, seed=seed).permutations`` of datasketch's default scheme
    (``affine32``: h → a·h + b mod 2³², with an odd ``a`` so the map is a bijection)."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    for values in (a, b):
        values.flags.writeable = False  # shared by every caller (cached)
    return a, b


@cache
def _gauss_legendre(degree: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights on [-1, 1] that integrate every polynomial up to ``degree`` exactly."""
    return np.polynomial.legendre.leggauss(degree // 2 + 1)


@cache
def optimal_bands(
    threshold: float, num_perm: int, false_positive_weight: float = 0.5, false_negative_weight: float = 0.5
) -> tuple[int, int]:
    """(bands, rows per band) that ``MinHashLSH(threshold, num_perm)`` chooses: the split with the
    least weighted sum of the false positive and false negative probability mass (datasketch's
    ``_optimal_param``, same loop order and tie rule: the first minimum wins).

    datasketch integrates with scipy's ``quad``; the integrands are polynomials of degree b·r ≤
    num_perm, so one Gauss–Legendre rule of that degree gives the same integrals up to rounding,
    on [0, threshold] and [threshold, 1] alike (the points do not depend on b and r)."""
    nodes, weights = _gauss_legendre(num_perm)
    below, above = threshold / 2, (1.0 - threshold) / 2  # half of each interval
    s_below, s_above = below * nodes + threshold / 2, above * nodes + (threshold + 1.0) / 2
    best_error, best = float("inf"), (0, 0)
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = float(below * np.dot(weights, 1 - (1 - s_below ** float(r)) ** float(b)))
            fn = float(above * np.dot(weights, 1 - (1 - (1 - s_above ** float(r)) ** float(b))))
            error = fp * false_positive_weight + fn * false_negative_weight
            if error < best_error:
                best_error, best = error, (b, r)
    return best


class BandTables:
    """The in-memory tables of a ``MinHashLSH(threshold, num_perm)``: one bucket dictionary per
    band (band key → set of keys) and each key's band keys, so removing one is exact.

    Band keys are the band's values byte-swapped, as ``MinHashLSH`` without a ``hashfunc`` keys
    them; buckets are sets filled and emptied in the same order as datasketch's, so a bucket is
    iterated in the same order too."""

    def __init__(self, threshold: float, num_perm: int) -> None:
        self.b, self.r = optimal_bands(threshold, num_perm)
        self.hashranges = [(i * self.r, (i + 1) * self.r) for i in range(self.b)]
        self.hashtables: list[dict[bytes, set[int]]] = [{} for _ in range(self.b)]
        self.keys: dict[int, list[bytes]] = {}

    def band_keys(self, values: np.ndarray) -> list[bytes]:
        """The bucket key of each band of ``values``, from one byte swap of the whole signature."""
        swapped = np.ascontiguousarray(values, dtype=np.uint32).byteswap().tobytes()
        return [swapped[4 * start : 4 * end] for start, end in self.hashranges]  # 4 bytes per uint32 value

    def insert(self, key: int, values: np.ndarray) -> None:
        bands = self.band_keys(values)
        self.keys.setdefault(key, []).extend(bands)
        for band, table in zip(bands, self.hashtables, strict=True):
            bucket = table.get(band)
            if bucket is None:
                table[band] = {key}
            else:
                bucket.add(key)

    def remove(self, key: int) -> None:
        if key not in self.keys:
            raise ValueError("The given key does not exist")
        # a key inserted twice has its bands listed twice: only the first are undone, as in datasketch
        for band, table in zip(self.keys.pop(key), self.hashtables, strict=False):
            bucket = table[band]
            bucket.remove(key)
            if not bucket:
                del table[band]
