"""aggregator/dedup/bands.py: datasketch's permutations and LSH band parameters, without datasketch.

The tables themselves are compared with ``MinHashLSH``'s in tests/aggregator/test_dedup.py, on real
signatures of the story index."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from datasketch import MinHash
from datasketch.lsh import _optimal_param

from aggregator.dedup.bands import optimal_bands, permutations

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("num_perm", "seed"), [(64, 1), (128, 1), (16, 7), (256, 42)])
def test_permutations_are_datasketchs(num_perm: int, seed: int) -> None:
    a, b = MinHash(num_perm=num_perm, seed=seed).permutations
    ours = permutations(num_perm, seed)
    assert ours[0].dtype == ours[1].dtype == np.uint32
    assert np.array_equal(ours[0], a) and np.array_equal(ours[1], b)
    assert (ours[0] % 2 == 1).all(), "odd multipliers: each permutation is a bijection"


@pytest.mark.parametrize("num_perm", [16, 64, 128])
def test_band_parameters_are_datasketchs(num_perm: int) -> None:
    for threshold in [round(0.1 * i, 1) for i in range(1, 10)] + [0.25, 0.3, 0.6]:
        assert optimal_bands(threshold, num_perm) == _optimal_param(threshold, num_perm, 0.5, 0.5), threshold


def test_weights_change_the_choice_as_in_datasketch() -> None:
    for weights in ((0.9, 0.1), (0.1, 0.9)):
        assert optimal_bands(0.5, 64, *weights) == _optimal_param(0.5, 64, *weights)


def test_the_cli_does_not_import_datasketch_or_scipy() -> None:
    """The point of the module: starting `ropsfeed` (every crawl) does not pay scipy's import."""
    code = (
        "import sys, aggregator.cli, aggregator.dedup.index\n"
        "print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
