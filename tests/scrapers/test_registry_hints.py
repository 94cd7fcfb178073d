"""The names the registry's errors suggest for a mistyped one (scrapers/registry_hints.py)."""

from __future__ import annotations

from scrapers.registry_hints import closest

IDS = ["mcps", "mcps-es", "rops-krakow", "rops-katowice", "rops-kielce"]


def test_what_was_typed_is_folded_as_ids_are_written() -> None:
    assert closest("ROPS Kraków", IDS) == ["rops-krakow"]
    assert closest("rops-krakw", IDS) == ["rops-krakow"]


def test_the_closest_and_those_nearly_as_close_not_every_near_one() -> None:
    assert closest("mcp", IDS) == ["mcps"]
    assert closest("ośrodek w gdańsku", IDS) == []
