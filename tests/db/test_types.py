"""UTCDateTime's SQLite fast path writes the very text the general TypeDecorator path writes."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import TypeDecorator

from db.types import UTCDateTime

DIALECT = sqlite.dialect()
TYPE = UTCDateTime().dialect_impl(DIALECT)
FAST = TYPE.bind_processor(DIALECT)
GENERAL = TypeDecorator.bind_processor(TYPE, DIALECT)


def test_the_fast_path_is_in_use() -> None:
    assert FAST is not None and GENERAL is not None
    assert FAST.__qualname__.startswith("UTCDateTime.")


def test_the_fast_path_writes_what_the_general_path_writes() -> None:
    rng = random.Random(2024)
    zones = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30)), ZoneInfo("Europe/Warsaw")]
    for _ in range(5000):
        value = datetime(rng.randint(2, 9998), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                         rng.randint(0, 59), rng.randint(0, 59), rng.choice([0, rng.randint(0, 999_999)]),
                         tzinfo=rng.choice(zones))  # fmt: skip
        assert FAST(value) == GENERAL(value), value
    assert FAST(None) is None


def test_naive_datetimes_are_refused_on_both_paths() -> None:
    for process in (FAST, GENERAL):
        with pytest.raises(ValueError, match="naive datetime"):
            process(datetime(2024, 1, 1, 12, 0))
