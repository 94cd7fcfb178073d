"""aggregator/web/security.py's rate limit, on a clock the test moves."""

from __future__ import annotations

from aggregator.web.security import RateLimit


def test_a_sliding_window_per_key_and_a_bounded_memory() -> None:
    now = [1000.0]
    limit = RateLimit(2, 60.0, max_keys=3, clock=lambda: now[0])
    assert limit.allow("a") and limit.allow("a") and not limit.allow("a"), "two a minute"
    assert limit.allow("b"), "keys are counted apart"
    now[0] += 30
    assert not limit.allow("a"), "a refusal is not counted, and the window slides, not resets"
    now[0] += 30.5
    assert limit.allow("a") and limit.allow("a") and not limit.allow("a")
    for key in ("c", "d", "e"):  # beyond three keys the least recently seen (b, then a) are forgotten
        assert limit.allow(key)
    assert limit.allow("a"), "a's full minute was forgotten"
    assert len(limit._events) == 3
