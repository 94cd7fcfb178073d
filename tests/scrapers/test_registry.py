from __future__ import annotations

import pytest

from scrapers.registry import PLATFORMS, VOIVODESHIPS, get_source, load_sources
from scrapers.spiders.generated import SPIDERS


def test_registry_entries_are_complete() -> None:
    for source in load_sources():
        assert source.voivodeship in VOIVODESHIPS and source.platform in PLATFORMS
        assert source.base_url.startswith(("https://", "http://")) and source.base_url.endswith("/")
        assert source.listing_urls or source.api_url or source.feed_url, source.id
        assert source.verified or source.note, f"{source.id}: an unverified source says what is inferred"


def test_one_spider_per_source() -> None:
    assert sorted(SPIDERS) == sorted(s.id for s in load_sources())
    assert SPIDERS["mcps"].source is get_source("mcps")


def test_unknown_source_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"known: .*mcps"):
        get_source("rops-atlantyda")


def test_every_source_names_its_publishing_institution_in_the_gazetteer() -> None:
    from aggregator.entities import gazetteer

    keys = {entity.key for entity in gazetteer()}
    for source in load_sources():
        assert source.entity in keys, f"{source.id}: entity {source.entity!r} is not a gazetteer key"
